using System.Diagnostics;
using Dovecote.Bench.Shared;

namespace Dovecote.Bench;

/// <summary>The whole OAuth journey a client and a person make, over HTTP, timed: DCR, consent page, sign-in, code, token.</summary>
public static class OAuthSignIn
{
    public const string Password = "bench-password-7c1d";

    public static async Task<(string AccessToken, (double Mean, double Max) Milliseconds)> TimeAsync(string baseUrl, int rounds)
    {
        var times = new List<double>();
        var token = "";
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            token = await SignInAsync(baseUrl);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return (token, (times.Average(), times.Max()));
    }

    private static Task<string> SignInAsync(string baseUrl) => OAuthToken.GetAsync(baseUrl, "default", Password);
}
