using Dovecote.Grains.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddDovecoteSilo();
await builder.Build().RunAsync();
