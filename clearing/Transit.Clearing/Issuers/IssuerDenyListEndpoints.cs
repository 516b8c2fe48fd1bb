using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Transit.Clearing.Access;
using Transit.RideCodes;

namespace Transit.Clearing.Issuers;

/// <summary><c>PUT /api/issuers/{id}/deny-list</c>: an external issuer's own signed deny list, for its operators' gates (admins).</summary>
public static class IssuerDenyListEndpoints
{
    /// <summary>Largest deny list accepted, in bytes: a million accounts of a few dozen characters.</summary>
    private const int MaxBytes = 64 * 1024 * 1024;

    public static IEndpointRouteBuilder MapIssuerDenyListEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/api/issuers/{id}/deny-list", async (string id, HttpRequest request, IssuerDenyLists denyLists, CancellationToken cancellation) =>
        {
            if (!IssuerIds.IsValid(id))
            {
                return ApiProblems.BadField("id", $"an issuer id has {IssuerIds.Rule}");
            }

            if (request.ContentLength > MaxBytes)
            {
                return TypedResults.Problem($"the deny list is larger than {MaxBytes / 1024 / 1024} MiB", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large");
            }

            using var reader = new StreamReader(request.Body);
            var json = await reader.ReadToEndAsync(cancellation);
            return await Store(denyLists, id, json, cancellation);
        }).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return app;
    }

    /// <summary>The HTTP answer for one outcome of <see cref="IssuerDenyLists.AcceptAsync"/>.</summary>
    private static async Task<IResult> Store(IssuerDenyLists denyLists, string id, string json, CancellationToken cancellation) =>
        await denyLists.AcceptAsync(id, json, cancellation) switch
        {
            IssuerDenyListOutcome.Stored stored => TypedResults.Ok(new { issuer = id, version = stored.Version, entries = stored.Entries, changed = true }),
            IssuerDenyListOutcome.Unchanged unchanged => TypedResults.Ok(new { issuer = id, version = unchanged.Version, changed = false }),
            IssuerDenyListOutcome.UnknownIssuer => TypedResults.Problem($"no issuer '{id}' is registered", statusCode: StatusCodes.Status404NotFound, title: "Unknown issuer"),
            IssuerDenyListOutcome.Refused refused => TypedResults.Problem(refused.Detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "The deny list is refused"),
            _ => throw new InvalidOperationException("unknown outcome"),
        };
}
