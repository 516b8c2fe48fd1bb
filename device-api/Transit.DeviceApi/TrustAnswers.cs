using System.Text.Json;
using System.Text.Json.Serialization;

namespace Transit.DeviceApi;

/// <summary>
/// The answer of <c>GET /device/v1/denylist</c>: the signed deltas after the version the gate holds, or, when
/// deltas cannot bring it up to date, a signed snapshot. Each is a signed envelope the gate verifies itself.
/// </summary>
/// <param name="Version">The newest deny-list version.</param>
/// <param name="Deltas">The signed deltas in order; absent when a snapshot is sent.</param>
/// <param name="Snapshot">The signed whole list; absent when deltas are sent.</param>
public sealed record DenyListAnswer(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("deltas")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<JsonElement>? Deltas,
    [property: JsonPropertyName("snapshot")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Snapshot);

/// <summary>
/// The answer of <c>GET /device/v1/issuers</c>: the operator's signed acceptance list and, beside it, each accepted
/// issuer's signed key set and deny list (signed envelopes; the list names the root each must verify under).
/// </summary>
/// <param name="Version">The acceptance list's version.</param>
/// <param name="Acceptance">The signed acceptance list.</param>
/// <param name="Issuers">Each accepted issuer's documents.</param>
public sealed record IssuerBundleAnswer(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("acceptance")] JsonElement? Acceptance,
    [property: JsonPropertyName("issuers")] IReadOnlyList<IssuerDocuments>? Issuers);

/// <summary>One accepted issuer's signed documents.</summary>
/// <param name="Id">The issuer id.</param>
/// <param name="KeySet">Its signed key set.</param>
/// <param name="DenyList">Its signed deny list, when it publishes one.</param>
public sealed record IssuerDocuments(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("keySet")] JsonElement? KeySet,
    [property: JsonPropertyName("denyList")] JsonElement? DenyList);

/// <summary>An error answer of the device API (RFC 9457 problem details), as a device reads it.</summary>
/// <param name="Type">The problem's URI, e.g. <c>https://transit.example/problems/invalid-batch</c>.</param>
/// <param name="Title">A short summary.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Detail">What is wrong with this request, naming the field.</param>
/// <param name="Errors">For a 400: each bad field's JSON path and what it must be.</param>
public sealed record DeviceProblem(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("errors")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Errors = null);
