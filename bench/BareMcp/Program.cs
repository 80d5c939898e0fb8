// A bare stateless ModelContextProtocol.AspNetCore server with one no-op tool: the 1.00 row of bench/Dovecote.Perf.
// Usage: dotnet Dovecote.BareMcp.dll --urls http://127.0.0.1:PORT   (POST /mcp)
using System.ComponentModel;
using ModelContextProtocol.Server;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddMcpServer().WithHttpTransport(o => o.Stateless = true).WithTools<NoOpTools>();
var app = builder.Build();
app.MapMcp("/mcp");
app.Run();

[McpServerToolType]
internal sealed class NoOpTools
{
    [McpServerTool(Name = "noop"), Description("Does nothing and answers ok.")]
    public static string NoOp() => "ok";
}
