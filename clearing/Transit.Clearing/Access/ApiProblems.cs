using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Transit.Clearing.Access;

/// <summary>
/// Problems in the API's own words: a refused request names the field and what is wrong with it, never a .NET type,
/// an exception message or a stack trace (those tell an attacker what runs behind the API, and a user nothing).
/// </summary>
public static partial class ApiProblems
{
    /// <summary>The longest id (operator, device, account, route, stop) any request may carry; the feed's ids are far shorter.</summary>
    public const int MaximumIdLength = 64;

    /// <summary>A service day in a path or body: <c>YYYY-MM-DD</c>.</summary>
    public static bool TryDay(string text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out day);

    /// <summary>The 400 problem of a day that is not one.</summary>
    public static IResult BadDay(string text) =>
        TypedResults.Problem($"'{text}' is not a date (YYYY-MM-DD)", statusCode: StatusCodes.Status400BadRequest, title: "Bad date");

    /// <summary>A 400 problem naming <paramref name="field"/>, with the field in <c>errors</c> as validation problems carry it.</summary>
    public static ProblemHttpResult BadField(string field, string detail) =>
        TypedResults.Problem(
            $"{field}: {detail}", statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [detail] } });

    /// <summary>Null when <paramref name="value"/> is a plausible id: 1 to 64 characters, none of them control characters.</summary>
    public static string? IdError(string? value) =>
        string.IsNullOrEmpty(value) || value.Length > MaximumIdLength || value.Any(char.IsControl)
            ? $"must be 1 to {MaximumIdLength} characters without control characters"
            : null;

    /// <summary>The field a JSON body failed at and why, in words that name no .NET type.</summary>
    public static (string Field, string Detail) Describe(JsonException error)
    {
        var field = string.IsNullOrEmpty(error.Path) || error.Path == "$" ? "body" : error.Path.TrimStart('$', '.');
        var message = error.Message;
        const string Missing = "missing required properties including: ";
        if (message.IndexOf(Missing, StringComparison.Ordinal) is var missing and >= 0)
        {
            var names = message[(missing + Missing.Length)..].TrimEnd('.');
            return (field, $"required properties are missing: {names}");
        }

        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return (field, "the value has the wrong type or format for this field");
        }

        var where = error.LineNumber is { } line ? $" (line {line + 1}, byte {error.BytePositionInLine + 1})" : "";
        return (field, $"the body is not well-formed JSON{where}");
    }

    /// <summary>
    /// Rewrites the problem of a request that failed to bind (a query value of the wrong type, a body that is not
    /// JSON): ASP.NET's own message names the parameter's .NET type, so the answer names only the field.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        if (context.Exception is not BadHttpRequestException bad)
        {
            return;
        }

        var (field, detail) = bad.InnerException is JsonException json
            ? Describe(json)
            : (BoundParameter().Match(bad.Message) is { Success: true } match ? JsonNamingPolicy.CamelCase.ConvertName(match.Groups[1].Value) : "request",
                bad.Message.StartsWith("Required parameter", StringComparison.Ordinal) ? "is required" : "the value has the wrong type or format for this field");
        context.HttpContext.Response.StatusCode = bad.StatusCode;
        context.ProblemDetails.Status = bad.StatusCode;
        context.ProblemDetails.Title = "Bad request";
        context.ProblemDetails.Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1";
        context.ProblemDetails.Detail = $"{field}: {detail}";
        // Whatever else was attached (in Development: the exception) would name types again.
        var traced = context.ProblemDetails.Extensions.TryGetValue("traceId", out var trace);
        context.ProblemDetails.Extensions.Clear();
        if (traced)
        {
            context.ProblemDetails.Extensions["traceId"] = trace;
        }

        context.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
    }

    // ASP.NET's wording: Failed to bind parameter "Nullable<int> HourFrom" from "x"; Required parameter "string day" was not provided.
    [System.Text.RegularExpressions.GeneratedRegex("parameter \"(?:[^\"]*[ ])?(\\w+)\"", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex BoundParameter();

    /// <summary>A 400 problem for a JSON body that failed to parse.</summary>
    public static ProblemHttpResult BadJson(JsonException error)
    {
        var (field, detail) = Describe(error);
        return BadField(field, detail);
    }
}
