using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dovecote.Api.Admin;

/// <summary>
/// The body of every admin error, OAuth-style: <c>{"error": "...", "error_description": "..."}</c>. Built only here, so
/// every /admin route answers in the same shape.
/// </summary>
public sealed record AdminError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string Description)
{
    /// <summary>400 invalid_request: what is wrong with the input, never echoing a secret.</summary>
    public static BadRequest<AdminError> BadRequest(string reason) => TypedResults.BadRequest(new AdminError("invalid_request", reason));

    /// <summary>404 not_found: what does not exist.</summary>
    public static NotFound<AdminError> NotFound(string reason) => TypedResults.NotFound(new AdminError("not_found", reason));

    /// <summary>Any other status: 401 unauthorized, 403 admin_disabled.</summary>
    public static JsonHttpResult<AdminError> Status(int statusCode, string error, string reason) =>
        TypedResults.Json(new AdminError(error, reason), statusCode: statusCode);
}
