using System.Text;
using System.Text.Encodings.Web;
using Dovecote.Api.OAuth.Consent;

namespace Dovecote.Api.Accounts;

/// <summary>A "Sign in with ..." button: the upstream provider's label and the local URL that starts its sign-in.</summary>
public sealed record ProviderLink(string Label, string Href);

/// <summary>What /signin shows: the upstream providers, the tenant-password form, and where to go afterwards.</summary>
public sealed record SignInView(
    IReadOnlyList<ProviderLink> Providers,
    string CsrfToken,
    string ReturnUrl,
    string Tenant,
    string? SignedInAs,
    string? Error);

/// <summary>/signin as plain server-rendered HTML in the consent page's look, working without JavaScript.</summary>
public static class SignInPage
{
    public static IResult Render(SignInView view, int statusCode) => ConsentPage.Page("Sign in to Dovecote", html =>
    {
        var h = HtmlEncoder.Default;
        html.Append("<h1 id=\"heading\">Sign in to Dovecote</h1>");
        if (view.SignedInAs is not null)
            html.Append("<p>You are signed in as <strong>").Append(h.Encode(view.SignedInAs)).Append("</strong>. Signing in again replaces that session.</p>");
        html.Alert(view.Error);
        ProviderButtons(html, view.Providers);
        if (view.Providers.Count > 0) html.Append("<p class=\"or\">or with a tenant's password</p>");
        PasswordForm(html, AccountSession.SignInPath, view.CsrfToken, view.Tenant, [KeyValuePair.Create(AccountSession.ReturnUrlParameter, view.ReturnUrl)],
            "Sign in");
    }, statusCode);

    /// <summary>One link per provider; each starts that provider's sign-in and comes back to where the person was going.</summary>
    public static void ProviderButtons(StringBuilder html, IReadOnlyList<ProviderLink> providers)
    {
        foreach (var provider in providers)
            html.Append("<a class=\"provider\" href=\"").Append(HtmlEncoder.Default.Encode(provider.Href)).Append("\">Sign in with ")
                .Append(HtmlEncoder.Default.Encode(provider.Label)).Append("</a>");
    }

    /// <summary>The tenant + password form, posting to <paramref name="action"/> with the CSRF token and <paramref name="hidden"/> fields.</summary>
    public static void PasswordForm(StringBuilder html, string action, string csrfToken, string tenant,
        IEnumerable<KeyValuePair<string, string>> hidden, string submitLabel)
    {
        var h = HtmlEncoder.Default;
        html.Append("<form method=\"post\" action=\"").Append(h.Encode(action)).Append("\">");
        foreach (var (name, value) in hidden) html.Hidden(name, value);
        html.Hidden(ConsentCsrf.FieldName, csrfToken);
        html.Append("<label for=\"tenant\">Tenant</label>")
            .Append("<input type=\"text\" id=\"tenant\" name=\"tenant\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required value=\"")
            .Append(h.Encode(tenant)).Append("\">");
        html.Append("<label for=\"password\">Password</label>")
            .Append("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>");
        html.Append("<div class=\"actions\"><button type=\"submit\" class=\"allow\">").Append(h.Encode(submitLabel)).Append("</button></div></form>");
    }
}
