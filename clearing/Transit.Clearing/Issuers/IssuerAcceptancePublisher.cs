using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;
using Transit.RideCodes;
using Transit.DeviceApi;

namespace Transit.Clearing.Issuers;

/// <summary>The issuers a device syncs: the signed acceptance document's version and the device API's answer.</summary>
/// <param name="Version">The acceptance document's version (the ETag's).</param>
/// <param name="Json">The answer of <c>GET /device/v1/issuers</c>.</param>
public sealed record IssuerBundle(long Version, string Json);

/// <summary>
/// Builds, signs and keeps each operator's acceptance document (<see cref="IssuerAcceptance"/>) and the bundle the
/// gates sync with it: the issuers an operator accepts (table <c>issuer_acceptance</c>) with their root keys from
/// <c>issuers</c>, and each one's newest key set and deny list. The document is re-signed, one version up, whenever
/// its content changes, whoever wrote the tables; signing takes clearing's online key, certified in the operator's
/// key set for acceptance documents, so a gate verifies it under its own operator's trust.
/// </summary>
public sealed class IssuerAcceptancePublisher(NpgsqlDataSource dataSource, OperatorKeys keys, ServiceCalendar calendar, TimeProvider time)
{
    /// <summary>
    /// The operator's current bundle, re-signed first when the tables say something else than the held one; null
    /// when the operator has never accepted another issuer (its gates keep their configured <c>Trust:Issuers</c>).
    /// </summary>
    /// <exception cref="Transit.RideCodes.KeyStore.KeyDirectoryException">The key directory cannot sign acceptance documents.</exception>
    public async Task<IssuerBundle?> CurrentAsync(string operatorId, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var entries = await AcceptedAsync(connection, operatorId, now, cancellation);
        var fingerprint = Fingerprint(entries);
        var held = await HeldAsync(connection, operatorId, cancellation);
        if (held is { } current && current.Fingerprint == fingerprint)
        {
            return current.Bundle;
        }

        if (held is null && entries.Count == 0)
        {
            return null;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        // One signer per operator at a time, on any number of clearing nodes: the version must never fork.
        await Sql.ExecAsync(connection, "SELECT pg_advisory_xact_lock(hashtext('issuer-acceptance:' || $1)::bigint)", cancellation, operatorId);
        entries = await AcceptedAsync(connection, operatorId, now, cancellation);
        fingerprint = Fingerprint(entries);
        held = await HeldAsync(connection, operatorId, cancellation);
        if (held is { } again && again.Fingerprint == fingerprint)
        {
            return again.Bundle;
        }

        var version = (held?.Bundle.Version ?? 0) + 1;
        var document = new IssuerAcceptance(
            version, operatorId, Truncate(now), entries.Select(e => new AcceptedIssuer(e.IssuerId, e.RootKey, e.From, e.To)));
        var signed = keys.Sign(IssuerAcceptance.DocumentType, document.ToPayload());
        var bundle = new IssuerBundle(version, BundleJson(version, signed, entries));
        await Sql.ExecAsync(connection, """
            INSERT INTO issuer_acceptance_documents (operator_id, version, fingerprint, bundle, signed_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (operator_id) DO UPDATE SET version = EXCLUDED.version, fingerprint = EXCLUDED.fingerprint, bundle = EXCLUDED.bundle,
              signed_at = EXCLUDED.signed_at
            """, cancellation, operatorId, version, fingerprint, bundle.Json, now.UtcDateTime);
        await transaction.CommitAsync(cancellation);
        return bundle;
    }

    private static string BundleJson(long version, SignedDocument acceptance, List<Entry> entries) =>
        JsonSerializer.Serialize(
            new IssuerBundleAnswer(
                version,
                JsonElement.Parse(acceptance.ToJson()),
                [.. entries.Select(e => new IssuerDocuments(e.IssuerId, JsonElement.Parse(e.KeySet), e.DenyList is null ? null : JsonElement.Parse(e.DenyList)))]),
            DeviceApiJson.Default.IssuerBundleAnswer);

    /// <summary>
    /// What the document would say now, one entry per issuer: its root key, documents, and the acceptance window in
    /// force or next to come. Rows of one issuer and operator are service days (<c>valid_to</c> exclusive); a later
    /// row supersedes an earlier one from its <c>valid_from</c>, and back-to-back rows (a changed fee) make one window.
    /// </summary>
    private async Task<List<Entry>> AcceptedAsync(NpgsqlConnection connection, string operatorId, DateTimeOffset now, CancellationToken cancellation)
    {
        var rows = await Sql.ListAsync(connection, """
            SELECT a.issuer_id, a.valid_from, a.valid_to, i.root_public_key, i.key_set, i.key_set_version, i.deny_list, i.deny_list_version
            FROM issuer_acceptance a JOIN issuers i USING (issuer_id) WHERE a.operator_id = $1 ORDER BY a.issuer_id, a.valid_from
            """, r => new Row(
            r.GetString(0), r.GetFieldValue<DateOnly>(1), r.IsDBNull(2) ? null : r.GetFieldValue<DateOnly>(2), r.GetString(3), r.GetString(4),
            r.GetInt64(5), r.NullableString(6), r.NullableLong(7)), cancellation, operatorId);
        var entries = new List<Entry>();
        foreach (var issuer in rows.GroupBy(r => r.IssuerId))
        {
            var window = Window([.. issuer], now);
            if (window is not { } w)
            {
                continue;
            }

            var row = issuer.First();
            entries.Add(new Entry(
                row.IssuerId, KeyFiles.ParsePublicKey(row.RootPublicKey), calendar.Start(w.From), w.To is { } to ? calendar.Start(to) : null,
                row.KeySet, row.KeySetVersion, row.DenyList, row.DenyListVersion));
        }

        return entries;
    }

    private (DateOnly From, DateOnly? To)? Window(List<Row> rows, DateTimeOffset now)
    {
        var windows = new List<(DateOnly From, DateOnly? To)>();
        for (var i = 0; i < rows.Count; i++)
        {
            var to = rows[i].ValidTo;
            if (i + 1 < rows.Count && (to is null || to > rows[i + 1].ValidFrom))
            {
                to = rows[i + 1].ValidFrom;
            }

            if (windows.Count > 0 && windows[^1].To == rows[i].ValidFrom)
            {
                windows[^1] = (windows[^1].From, to);
            }
            else
            {
                windows.Add((rows[i].ValidFrom, to));
            }
        }

        foreach (var window in windows)
        {
            if (window.To is null || calendar.Start(window.To.Value) > now)
            {
                return window;
            }
        }

        return null;
    }

    private static string Fingerprint(List<Entry> entries)
    {
        var text = new StringBuilder();
        foreach (var e in entries)
        {
            text.Append(e.IssuerId).Append('|').Append(Convert.ToBase64String(e.RootKey.Compressed)).Append('|').Append(e.RootKey.Algorithm.ToName())
                .Append('|').Append(e.From.ToUnixTimeSeconds()).Append('|').Append(e.To?.ToUnixTimeSeconds()).Append('|').Append(e.KeySetVersion)
                .Append('|').Append(e.DenyListVersion).Append('\n');
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static async Task<(string Fingerprint, IssuerBundle Bundle)?> HeldAsync(NpgsqlConnection connection, string operatorId, CancellationToken cancellation)
    {
        var rows = await Sql.ListAsync(connection, "SELECT fingerprint, version, bundle FROM issuer_acceptance_documents WHERE operator_id = $1",
            r => (Fingerprint: r.GetString(0), Bundle: new IssuerBundle(r.GetInt64(1), r.GetString(2))), cancellation, operatorId);
        return rows.Count == 0 ? null : rows[0];
    }

    private static DateTimeOffset Truncate(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private sealed record Row(
        string IssuerId, DateOnly ValidFrom, DateOnly? ValidTo, string RootPublicKey, string KeySet, long KeySetVersion, string? DenyList, long? DenyListVersion);

    private sealed record Entry(
        string IssuerId, PublicKey RootKey, DateTimeOffset From, DateTimeOffset? To, string KeySet, long KeySetVersion, string? DenyList, long? DenyListVersion);
}
