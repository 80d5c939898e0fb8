using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

using Dovecote.Bench.Shared;

namespace Dovecote.Perf;

/// <summary>What one wrk run reported: its own numbers, parsed from its output.</summary>
internal sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors, long BodyErrors, string Output)
{
    public long Errors => Non2xx + SocketErrors + BodyErrors;
}

/// <summary>
/// Runs wrk (a separate process) with a generated Lua script that POSTs one JSON-RPC call per request and counts
/// answers that are not a JSON-RPC result (non-200, no "result" member, or a tool result with isError true).
/// </summary>
internal static partial class Wrk
{
    public static async Task<WrkResult> RunAsync(string url, IReadOnlyDictionary<string, string> headers, string luaBody, string folder, string name,
        int threads, int connections, int seconds)
    {
        var script = new StringBuilder();
        script.AppendLine("wrk.method = \"POST\"");
        foreach (var (key, value) in headers) script.AppendLine($"wrk.headers[\"{key}\"] = \"{value}\"");
        script.AppendLine("""
            local threads = {}
            function setup(thread) table.insert(threads, thread) end
            function init(args) errors = 0; counter = 0 end
            """);
        script.AppendLine(luaBody); // defines request()
        script.AppendLine("""
            function response(status, headers, body)
              if status ~= 200 or not string.find(body, '"result":', 1, true) or string.find(body, '"isError":true', 1, true) then
                errors = errors + 1
              end
            end
            function done(summary, latency, requests)
              local e = 0
              for _, t in ipairs(threads) do e = e + t:get("errors") end
              io.write(string.format("BODY_ERRORS %d\n", e))
            end
            """);
        var path = Path.Combine(folder, name + ".lua");
        await File.WriteAllTextAsync(path, script.ToString());

        var wrk = Children.Start(new Child("wrk " + name, "wrk", [$"-t{threads}", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", path, url]) { ExitsByItself = true });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 60));
        await wrk.WaitForExitAsync(cts.Token);
        Children.Stop(wrk);
        return Parse(wrk.Tail);
    }

    public static WrkResult Parse(string output)
    {
        double Latency(string percent)
        {
            var m = Regex.Match(output, $@"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
            if (!m.Success) return double.NaN;
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return m.Groups[2].Value switch { "us" => value / 1000, "ms" => value, "s" => value * 1000, _ => value * 60_000 };
        }
        long Number(string pattern) => Regex.Match(output, pattern, RegexOptions.Multiline) is { Success: true } m
            ? m.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture))
            : 0;
        var rps = Regex.Match(output, @"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline) is { Success: true } r
            ? double.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture)
            : double.NaN;
        return new WrkResult(
            rps,
            Latency("50"),
            Latency("99"),
            Number(@"^\s*(\d+) requests in"),
            Number(@"Non-2xx or 3xx responses:\s+(\d+)"),
            Number(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"),
            Number(@"^BODY_ERRORS (\d+)"),
            output);
    }
}
