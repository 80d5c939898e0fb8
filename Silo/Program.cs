using Dovecote.Grains.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(SiloHealthEndpoints.DefaultUrl);
builder.AddDovecoteSilo();

var app = builder.Build();
app.MapSiloHealth();
await app.RunAsync();
