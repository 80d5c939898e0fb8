namespace Dovecote.Grains.DataProtection;

[GenerateSerializer, Alias("dovecote.KeyRingState")]
public sealed class KeyRingState
{
    [Id(0)] public List<KeyRingElement> Elements { get; set; } = [];
}

[GenerateSerializer, Alias("dovecote.KeyRingElement")]
public sealed class KeyRingElement
{
    [Id(0)] public string FriendlyName { get; set; } = "";
    [Id(1)] public string Xml { get; set; } = "";
}
