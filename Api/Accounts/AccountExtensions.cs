using Dovecote.Grains.Hosting;
using Microsoft.AspNetCore.Authentication;

namespace Dovecote.Api.Accounts;

/// <summary>People: their sessions, /signin and /signout, and the tenants they belong to.</summary>
public static class AccountExtensions
{
    public static WebApplicationBuilder AddDovecoteAccounts(this WebApplicationBuilder builder, AuthenticationBuilder authentication)
    {
        var services = builder.Services;
        services.AddDovecoteOptions<AccountOptions>(builder.Configuration);
        services.AddSingleton<TenantPasswords>();
        services.AddSingleton<AccountMemberships>();
        services.AddSingleton<SignInProviders>();
        services.AddSingleton<UpstreamIdentities>();
        services.AddSingleton<AccountSignIn>();
        services.AddScoped<MemberAdministration>();
        services.AddHttpClient(UpstreamIdentities.GitHubApiClient, client => client.Timeout = TimeSpan.FromSeconds(10)).RemoveAllLoggers();
        authentication.AddAccountSession();

        return builder;
    }

    public static WebApplication MapDovecoteAccounts(this WebApplication app)
    {
        app.MapSignIn();
        app.MapUpstreamSignIn();
        app.MapInvitations();
        return app;
    }
}
