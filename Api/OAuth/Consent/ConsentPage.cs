using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace Dovecote.Api.OAuth.Consent;

/// <summary>What the consent page shows: who asks, where the browser goes next, and what the app may do.</summary>
public sealed record ConsentView(
    string ClientName,
    string RedirectHost,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<KeyValuePair<string, string>> Parameters,
    string CsrfToken,
    string Tenant,
    string? Error,
    ConsentPerson? Person = null,
    IReadOnlyList<Accounts.ProviderLink>? Providers = null)
{
    /// <summary>"/authorize?..." with this request's parameters: where a sign-in started from this page comes back to.</summary>
    public string ReturnUrl => Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/authorize", Parameters.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
}

/// <summary>The signed-in person on the consent page, and the tenants they may connect the app to.</summary>
public sealed record ConsentPerson(string Name, IReadOnlyList<string> Tenants);

/// <summary>
/// The consent page as plain server-rendered HTML: one form, no script, so it works without JavaScript, and a CSP
/// that allows nothing but its own stylesheet.
/// </summary>
public static class ConsentPage
{
    private static readonly Dictionary<string, string> ScopeText = new()
    {
        [DovecoteScopes.Notify] = "Send notifications to your channels, list the channels and check on deliveries.",
        [DovecoteScopes.EnvRead] = "Read your stored environment profiles.",
        [DovecoteScopes.OfflineAccess] = "Stay connected, so you are not asked again every few hours.",
    };

    private const string Style = """
        :root{color-scheme:light dark;--bg:#f4f1ea;--card:#fff;--ink:#1d1b16;--muted:#5f5a4f;--line:#e2dccf;--accent:#2f5d50;--accent-ink:#fff;--warn-bg:#fff4d6;--warn-line:#e0b84a;--err-bg:#fde8e6;--err-line:#d9534f}
        @media (prefers-color-scheme:dark){:root{--bg:#15140f;--card:#1f1d17;--ink:#f1ede3;--muted:#b3ac9c;--line:#38342a;--accent:#7fbfa9;--accent-ink:#10201b;--warn-bg:#3a3016;--warn-line:#b08a2a;--err-bg:#3d1d1b;--err-line:#d9534f}}
        *{box-sizing:border-box}
        body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:24px}
        main{width:100%;max-width:440px;background:var(--card);border:1px solid var(--line);border-radius:16px;padding:32px;box-shadow:0 10px 30px rgba(0,0,0,.08)}
        .brand{display:flex;align-items:center;gap:10px;font-weight:600;color:var(--accent);margin-bottom:20px}
        .brand svg{width:28px;height:28px}
        h1{font-size:1.35rem;line-height:1.3;margin:0 0 8px}
        h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:24px 0 8px}
        p{margin:0 0 12px;color:var(--muted)}
        strong{color:var(--ink)}
        ul{list-style:none;margin:0;padding:0;border:1px solid var(--line);border-radius:10px}
        li{padding:10px 14px;border-top:1px solid var(--line)}
        li:first-child{border-top:0}
        code{font-size:.85em;color:var(--muted)}
        .warning{margin-top:8px;padding:10px 12px;border-left:4px solid var(--warn-line);background:var(--warn-bg);border-radius:6px;color:var(--ink);font-size:.92rem}
        .alert{margin:16px 0 0;padding:10px 12px;border-left:4px solid var(--err-line);background:var(--err-bg);border-radius:6px;color:var(--ink)}
        form{margin-top:24px}
        label{display:block;font-weight:600;margin:14px 0 6px}
        input[type=text],input[type=password],select{width:100%;padding:10px 12px;border:1px solid var(--line);border-radius:8px;background:transparent;color:var(--ink);font:inherit}
        input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
        .actions{display:flex;gap:12px;margin-top:24px}
        button{flex:1;padding:11px 16px;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;border:1px solid var(--accent)}
        .allow{background:var(--accent);color:var(--accent-ink)}
        .deny{background:transparent;color:var(--accent)}
        .fine{margin-top:20px;font-size:.85rem}
        .provider{display:block;margin-top:12px;padding:11px 16px;border-radius:8px;border:1px solid var(--line);color:var(--ink);font-weight:600;text-align:center;text-decoration:none}
        .provider:hover,.provider:focus-visible{border-color:var(--accent)}
        .or{margin:20px 0 0;text-align:center;font-size:.85rem}
        .signed{margin-top:20px}
        a{color:var(--accent)}
        .link{flex:none;padding:0;border:0;background:none;color:var(--accent);font-weight:400;text-decoration:underline}
        main:has(>nav){max-width:1080px}
        nav{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;margin:-8px 0 20px;font-size:.92rem}
        nav a{color:var(--accent)}
        nav a[aria-current]{color:var(--ink);font-weight:700;text-decoration:none}
        table{width:100%;border-collapse:collapse;font-size:.88rem;margin:8px 0 16px}
        th,td{text-align:left;padding:6px 8px;border-top:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
        th{color:var(--muted);font-weight:600}
        td form,nav form{margin:0;display:inline}
        .small{flex:none;padding:4px 10px;font-size:.85rem;font-weight:600;background:transparent;color:var(--accent)}
        .notice{margin:16px 0 0;padding:10px 12px;border-left:4px solid var(--accent);background:var(--bg);border-radius:6px;color:var(--ink)}
        .secret{display:block;padding:10px 12px;border:1px dashed var(--accent);border-radius:8px;color:var(--ink);font-size:.9rem;word-break:break-all}
        """;

    /// <summary>The CSP hash of <see cref="Style"/>: the one stylesheet the page may use.</summary>
    private static readonly string StyleHash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style))) + "'";

    private const string Logo = """<svg viewBox="0 0 32 32" aria-hidden="true"><path fill="currentColor" d="M16 3 3 12v17h26V12L16 3Zm0 3.2 10 6.9V27H6V13.1l10-6.9Zm-4 10.3a4 4 0 0 1 8 0V25h-8v-8.5Z"/></svg>""";

    /// <summary>Headers on every /authorize answer (and every page in this look): never framed, never cached, no referrer leaking the query.</summary>
    public static void ApplySecurityHeaders(HttpResponse response, string? redirectOrigin)
    {
        // form-action must admit the client's origin too: browsers apply it to the redirect that follows the post.
        var formAction = redirectOrigin is null ? "'self'" : $"'self' {redirectOrigin}";
        response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src {StyleHash}; img-src 'self' data:; form-action {formAction}; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    public static IResult Render(ConsentView view, int statusCode)
    {
        var h = HtmlEncoder.Default;
        var html = new StringBuilder(4096);
        Head(html, $"Connect {view.ClientName} to Dovecote");
        html.Append("<h1 id=\"heading\">Connect <strong>").Append(h.Encode(view.ClientName)).Append("</strong> to Dovecote?</h1>");
        html.Append("<p>After you allow it, your browser returns to <strong>").Append(h.Encode(view.RedirectHost)).Append("</strong>.</p>");
        html.Alert(view.Error);

        html.Append("<h2 id=\"scopes\">It will be able to</h2><ul aria-labelledby=\"scopes\">");
        foreach (var scope in view.Scopes)
        {
            html.Append("<li>").Append(h.Encode(ScopeText.GetValueOrDefault(scope, scope))).Append(" <code>").Append(h.Encode(scope)).Append("</code>");
            if (scope == DovecoteScopes.EnvRead)
                html.Append("<div class=\"warning\" role=\"note\"><strong>Careful:</strong> environment profiles often hold passwords and API keys. ")
                    .Append("Only allow this for an app you trust with those secrets.</div>");
            html.Append("</li>");
        }
        html.Append("</ul>");

        if (view.Person is { } person)
        {
            SessionForm(html, view, person);
            Foot(html);
            return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, statusCode);
        }
        if (view.Providers is { Count: > 0 } providers)
        {
            html.Append("<h2 id=\"signin\">Sign in</h2>");
            Accounts.SignInPage.ProviderButtons(html, providers);
            html.Append("<p class=\"or\">or with a tenant's password</p>");
        }

        html.Append("<form method=\"post\" action=\"/authorize\">");
        foreach (var (name, value) in view.Parameters) html.Hidden(name, value);
        html.Hidden(ConsentCsrf.FieldName, view.CsrfToken);
        html.Append("<label for=\"tenant\">Tenant</label>")
            .Append("<input type=\"text\" id=\"tenant\" name=\"tenant\" autocomplete=\"username\" " +
                "autocapitalize=\"none\" spellcheck=\"false\" required value=\"")
            .Append(h.Encode(view.Tenant)).Append("\">");
        html.Append("<label for=\"password\">Password</label>")
            .Append("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required autofocus>");
        html.Append("<div class=\"actions\"><button type=\"submit\" class=\"allow\" name=\"decision\" value=\"allow\">Allow</button>")
            .Append("<button type=\"submit\" class=\"deny\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></div>");
        html.Append("</form><p class=\"fine\">Only connect apps you trust. The operator can revoke this access at any time.</p>");
        Foot(html);
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    /// <summary>
    /// The form of a signed-in person: which of their tenants gets the connection (a picker when there are several), then
    /// Allow or Deny. The server checks the tenant against their memberships again on the post.
    /// </summary>
    private static void SessionForm(StringBuilder html, ConsentView view, ConsentPerson person)
    {
        var h = HtmlEncoder.Default;
        html.Append("<p class=\"signed\">Signed in as <strong>").Append(h.Encode(person.Name)).Append("</strong>.</p>");
        html.Append("<form method=\"post\" action=\"/authorize\">");
        foreach (var (name, value) in view.Parameters) html.Hidden(name, value);
        html.Hidden(ConsentCsrf.FieldName, view.CsrfToken).Hidden(ViaField, ViaSession);
        if (person.Tenants.Count == 0)
            html.Append("<p class=\"alert\" role=\"alert\">You do not belong to any tenant yet. Ask a tenant's owner for an invitation.</p>");
        else if (person.Tenants.Count == 1)
            html.Hidden("tenant", person.Tenants[0]).Append("<p>Tenant: <strong>").Append(h.Encode(person.Tenants[0])).Append("</strong></p>");
        else
        {
            html.Append("<label for=\"tenant\">Tenant</label><select id=\"tenant\" name=\"tenant\" required>");
            foreach (var tenant in person.Tenants)
                html.Append("<option value=\"").Append(h.Encode(tenant)).Append('"').Append(tenant == view.Tenant ? " selected" : "").Append('>')
                    .Append(h.Encode(tenant)).Append("</option>");
            html.Append("</select>");
        }
        html.Append("<div class=\"actions\">");
        if (person.Tenants.Count > 0) html.Append("<button type=\"submit\" class=\"allow\" name=\"decision\" value=\"allow\">Allow</button>");
        html.Append("<button type=\"submit\" class=\"deny\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></div></form>");
        html.Append("<p class=\"fine\"><a href=\"").Append(h.Encode(Accounts.AccountSession.SignInPath + "?" + Accounts.AccountSession.ReturnUrlParameter + "="
                + Uri.EscapeDataString(view.ReturnUrl)))
            .Append("\">Sign in differently</a>. Only connect apps you trust. The operator can revoke this access at any time.</p>");
    }

    /// <summary>The consent form's marker for "the signed-in person approves" (no password on the form).</summary>
    public const string ViaField = "via", ViaSession = "session";

    /// <summary>
    /// Any page in this look, with these headers' CSP: <paramref name="body"/> writes what goes under the brand. For the
    /// sign-in page and the console, so every page a person sees shares one stylesheet and one policy.
    /// </summary>
    public static IResult Page(string title, Action<StringBuilder> body, int statusCode)
    {
        var html = new StringBuilder(4096);
        Head(html, title);
        body(html);
        Foot(html);
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    /// <summary>A hidden form field, encoded.</summary>
    public static StringBuilder Hidden(this StringBuilder html, string name, string value) => html
        .Append("<input type=\"hidden\" name=\"").Append(HtmlEncoder.Default.Encode(name))
        .Append("\" value=\"").Append(HtmlEncoder.Default.Encode(value)).Append("\">");

    /// <summary>The role="alert" paragraph that tells what went wrong.</summary>
    public static StringBuilder Alert(this StringBuilder html, string? message) =>
        message is null ? html : html.Append("<p class=\"alert\" role=\"alert\">").Append(HtmlEncoder.Default.Encode(message)).Append("</p>");

    /// <summary>A page with a message and no form: a request that cannot be shown or continued.</summary>
    public static IResult Problem(string title, string message, int statusCode)
    {
        return Page(title, html => html.Append("<h1 id=\"heading\">").Append(HtmlEncoder.Default.Encode(title)).Append("</h1>").Alert(message), statusCode);
    }

    private static void Head(StringBuilder html, string title) => html
        .Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .Append("<meta name=\"robots\" content=\"noindex\"><title>").Append(HtmlEncoder.Default.Encode(title)).Append("</title>")
        .Append("<style>").Append(Style).Append("</style></head><body><main aria-labelledby=\"heading\">")
        .Append("<div class=\"brand\">").Append(Logo).Append("<span>Dovecote</span></div>");

    private static void Foot(StringBuilder html) => html.Append("</main></body></html>");
}
