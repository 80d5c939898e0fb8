using Dovecote.Grains.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(SiloHealthEndpoints.DefaultUrl);
// The probes answer while the silo is still joining ("starting"), instead of refusing connections until it has joined.
builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
builder.AddDovecoteSilo();

var app = builder.Build();
app.MapSiloHealth();
await app.RunAsync();
