using Dovecote.Grains.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
    builder.WebHost.UseUrls("http://localhost:8080");
builder.AddDovecoteSilo();

var app = builder.Build();
app.MapGet("/health", () => Results.Json(new { status = "ok", service = "dovecote" }));
app.Run();
