using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Transit.Clearing.Access;

namespace Transit.Clearing.Issuers;

/// <summary>The body of <c>POST /api/issuers</c>: the issuer's root.pub.json and keyset.json, as text or as the JSON objects.</summary>
public sealed record IssuerRegistration(string? Name, JsonElement RootPublicKey, JsonElement KeySet);

/// <summary>The body of <c>POST /api/issuers/{id}/acceptance</c>.</summary>
public sealed record AcceptanceRequest(string? OperatorId, string? ValidFrom, string? ValidTo, int? FeeBasisPoints);

/// <summary>The issuer registry and issuers' statements in the operators' API (admin only). See docs/clearing.md.</summary>
public static class IssuerEndpoints
{
    public static IEndpointRouteBuilder MapIssuerEndpoints(this IEndpointRouteBuilder app)
    {
        var issuers = app.MapGroup("/api/issuers").RequireAuthorization(p => p.RequireRole(Roles.Admin));
        issuers.MapGet("", async Task<IResult> (IssuerRegistry registry, CancellationToken cancellation) =>
            TypedResults.Ok(await registry.ListAsync(cancellation)));

        issuers.MapPost("", async Task<IResult> (IssuerRegistration body, IssuerRegistry registry, CancellationToken cancellation) =>
        {
            if (Document(body.RootPublicKey) is not { } root)
            {
                return ApiProblems.BadField("rootPublicKey", "required: the issuer's root.pub.json");
            }

            if (Document(body.KeySet) is not { } keySet)
            {
                return ApiProblems.BadField("keySet", "required: the issuer's signed keyset.json");
            }

            try
            {
                var added = await registry.AddAsync(root, "rootPublicKey", keySet, "keySet", body.Name ?? "", cancellation);
                return TypedResults.Created($"/api/issuers/{added.IssuerId}", added);
            }
            catch (IssuerException ex)
            {
                return Problem(ex);
            }
        });

        issuers.MapPost("/{issuerId}/acceptance", async Task<IResult> (string issuerId, AcceptanceRequest body, IssuerRegistry registry, CancellationToken cancellation) =>
        {
            if (ApiProblems.IdError(body.OperatorId) is { } badOperator)
            {
                return ApiProblems.BadField("operatorId", badOperator);
            }

            if (body.ValidFrom is null || !ApiProblems.TryDay(body.ValidFrom, out var from))
            {
                return ApiProblems.BadField("validFrom", "required, a date (YYYY-MM-DD)");
            }

            DateOnly? to = null;
            if (body.ValidTo is not null)
            {
                if (!ApiProblems.TryDay(body.ValidTo, out var end))
                {
                    return ApiProblems.BadField("validTo", "a date (YYYY-MM-DD): the first day no longer accepted");
                }

                to = end;
            }

            if (body.FeeBasisPoints is not { } fee)
            {
                return ApiProblems.BadField("feeBasisPoints", "required, 0 to 10000");
            }

            try
            {
                var accepted = await registry.AcceptAsync(body.OperatorId!, issuerId, from, to, fee, cancellation);
                return TypedResults.Created($"/api/issuers/{issuerId}", accepted);
            }
            catch (IssuerException ex)
            {
                return Problem(ex);
            }
        });

        issuers.MapGet("/{issuerId}/statements/{day}", async Task<IResult> (string issuerId, string day, string? format, IssuerStatements statements, CancellationToken cancellation) =>
        {
            if (!ApiProblems.TryDay(day, out var date))
            {
                return ApiProblems.BadDay(day);
            }

            if (format is not (null or "csv" or "json"))
            {
                return ApiProblems.BadField("format", "must be csv or json");
            }

            if (ApiProblems.IdError(issuerId) is null && await statements.ForAsync(issuerId, date, cancellation) is { } statement)
            {
                return format == "csv" ? TypedResults.Text(statement.ToCsv(), "text/csv") : TypedResults.Ok(statement);
            }

            return TypedResults.Problem($"issuer '{issuerId}' is not registered", statusCode: StatusCodes.Status404NotFound, title: "Unknown issuer");
        });
        return app;
    }

    private static string? Document(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Object => element.GetRawText(),
        _ => null,
    };

    private static IResult Problem(IssuerException ex) => ex.Problem switch
    {
        IssuerProblem.NotFound => TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        IssuerProblem.Conflict => TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        _ => TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Bad request"),
    };
}
