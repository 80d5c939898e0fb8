using System.Text;
using System.Text.Encodings.Web;
using Dovecote.Api.Accounts;
using Dovecote.Api.OAuth.Consent;

namespace Dovecote.Api.TenantConsole;

/// <summary>
/// The console's pages: the consent page's look, stylesheet and CSP (<see cref="ConsentPage.Page"/>) with a navigation bar,
/// plain tables and forms that post with the CSRF token. No script anywhere.
/// </summary>
public static class ConsoleHtml
{
    public static readonly (string Section, string Label)[] Sections =
    [
        ("channels", "Channels"), ("deliveries", "Deliveries"), ("api-keys", "API keys"), ("apps", "Connected apps"),
        ("audit", "Audit log"), ("usage", "Usage"), ("members", "Members"),
    ];

    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A page of <paramref name="request"/>'s tenant: the navigation, the heading, an optional notice, then <paramref name="body"/>.</summary>
    public static IResult Page(ConsoleRequest request, string section, string title, Action<StringBuilder> body, int status = StatusCodes.Status200OK,
        string? notice = null, string? error = null) =>
        ConsentPage.Page($"{title} · {request.Tenant} · Dovecote", html =>
        {
            Nav(html, request.Csrf, request.Name, request.Tenant, section);
            html.Append("<h1 id=\"heading\">").Append(E(title)).Append("</h1>");
            if (notice is not null) html.Append("<p class=\"notice\" role=\"status\">").Append(E(notice)).Append("</p>");
            html.Alert(error);
            if (error is null) body(html);
            else html.Append("<p><a href=\"").Append(E(request.Link(section))).Append("\">Back</a></p>");
        }, status);

    /// <summary>A refusal within a tenant (bad input, not found, owners only): the navigation stays, the reason is the alert.</summary>
    public static IResult Problem(ConsoleRequest request, string title, string reason, int status) =>
        Page(request, "", title, _ => { }, status, error: reason);

    public static void Nav(StringBuilder html, string csrf, string name, string? tenant, string section)
    {
        html.Append("<nav aria-label=\"Console\">");
        if (tenant is not null)
        {
            html.Append("<strong>").Append(E(tenant)).Append("</strong>");
            foreach (var (id, label) in Sections)
                html.Append("<a href=\"/console/").Append(E(tenant)).Append('/').Append(id).Append('"')
                    .Append(id == section ? " aria-current=\"page\"" : "").Append('>').Append(E(label)).Append("</a>");
        }
        html.Append("<a href=\"/console\"").Append(tenant is null && section == "" ? " aria-current=\"page\"" : "").Append(">Tenants</a>");
        html.Append("<span>").Append(E(name)).Append("</span>");
        PostButton(html, AccountSession.SignOutPath, "Sign out", csrf, []);
        html.Append("</nav>");
    }

    /// <summary>A one-button form posting <paramref name="fields"/> and the CSRF token to <paramref name="action"/>.</summary>
    public static StringBuilder PostButton(StringBuilder html, string action, string label, string csrf, IEnumerable<(string Name, string Value)> fields,
        string? ariaLabel = null)
    {
        html.Append("<form method=\"post\" action=\"").Append(E(action)).Append("\">").Hidden(ConsentCsrf.FieldName, csrf);
        foreach (var (name, value) in fields) html.Hidden(name, value);
        html.Append("<button type=\"submit\" class=\"small\"");
        if (ariaLabel is not null) html.Append(" aria-label=\"").Append(E(ariaLabel)).Append('"');
        return html.Append('>').Append(E(label)).Append("</button></form>");
    }

    /// <summary>Opens a form with the CSRF token; the caller adds fields and closes it with <see cref="EndForm"/>.</summary>
    public static StringBuilder BeginForm(this StringBuilder html, string action, string csrf) =>
        html.Append("<form method=\"post\" action=\"").Append(E(action)).Append("\">").Hidden(ConsentCsrf.FieldName, csrf);

    public static StringBuilder EndForm(this StringBuilder html, string submitLabel) =>
        html.Append("<div class=\"actions\"><button type=\"submit\" class=\"allow\">").Append(E(submitLabel)).Append("</button></div></form>");

    public static StringBuilder TextField(this StringBuilder html, string name, string label, string? value = null, bool required = false,
        string? hint = null, string type = "text")
    {
        html.Append("<label for=\"").Append(E(name)).Append("\">").Append(E(label)).Append("</label>");
        if (hint is not null) html.Append("<p><small>").Append(E(hint)).Append("</small></p>");
        html.Append("<input type=\"").Append(type).Append("\" id=\"").Append(E(name)).Append("\" name=\"").Append(E(name))
            .Append("\" autocomplete=\"off\" spellcheck=\"false\" value=\"").Append(E(value)).Append('"');
        return html.Append(required ? " required>" : ">");
    }

    public static StringBuilder Select(this StringBuilder html, string name, string label, IEnumerable<(string Value, string Label)> options, string? selected)
    {
        html.Append("<label for=\"").Append(E(name)).Append("\">").Append(E(label)).Append("</label><select id=\"").Append(E(name))
            .Append("\" name=\"").Append(E(name)).Append("\">");
        foreach (var (value, text) in options)
            html.Append("<option value=\"").Append(E(value)).Append('"').Append(value == selected ? " selected" : "").Append('>').Append(E(text)).Append("</option>");
        return html.Append("</select>");
    }

    /// <summary>A table: a header row, then one row per item, each cell already HTML.</summary>
    public static StringBuilder Table<T>(this StringBuilder html, string label, string[] headers, IEnumerable<T> rows, Func<T, string[]> cells,
        string empty)
    {
        var list = rows.ToList();
        if (list.Count == 0) return html.Append("<p>").Append(E(empty)).Append("</p>");
        html.Append("<table aria-label=\"").Append(E(label)).Append("\"><thead><tr>");
        foreach (var header in headers) html.Append("<th scope=\"col\">").Append(E(header)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in list)
        {
            html.Append("<tr>");
            foreach (var cell in cells(row)) html.Append("<td>").Append(cell).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>");
    }

    public static string When(DateTimeOffset? at) => at is { } time ? E(time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC") : "";

    /// <summary>A button's HTML as a table cell.</summary>
    public static string Button(string action, string label, string csrf, params (string Name, string Value)[] fields)
    {
        var html = new StringBuilder();
        PostButton(html, action, label, csrf, fields);
        return html.ToString();
    }
}
