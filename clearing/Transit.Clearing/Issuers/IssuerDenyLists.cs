using Npgsql;
using Transit.Clearing.Database;
using Transit.RideCodes;

namespace Transit.Clearing.Issuers;

/// <summary>What became of an issuer's deny list handed to clearing.</summary>
public abstract record IssuerDenyListOutcome
{
    /// <summary>Stored: the gates of the operators accepting the issuer get it at their next sync.</summary>
    public sealed record Stored(long Version, int Entries) : IssuerDenyListOutcome;

    /// <summary>The version clearing already holds, byte for byte: nothing to do.</summary>
    public sealed record Unchanged(long Version) : IssuerDenyListOutcome;

    /// <summary>No such issuer.</summary>
    public sealed record UnknownIssuer(string IssuerId) : IssuerDenyListOutcome;

    /// <summary>Refused: not signed under the issuer's stored keys, unreadable, or not newer; the held list stays.</summary>
    public sealed record Refused(string Detail) : IssuerDenyListOutcome;
}

/// <summary>
/// Takes an external issuer's own signed deny list (a <c>transit-denylist</c> snapshot, from <c>transit deny export
/// --dir ISSUERDIR</c>) and relays it: only when it verifies under that issuer's stored root key and key set (so one
/// issuer cannot deny another's riders, nor clearing's operator anyone through an issuer's list) and is newer than
/// the held one. The acceptance bundles of the operators accepting the issuer change with it, so their gates fetch it.
/// </summary>
public sealed class IssuerDenyLists(NpgsqlDataSource dataSource)
{
    /// <summary>Checks and stores <paramref name="json"/> as issuer <paramref name="issuerId"/>'s deny list.</summary>
    public async Task<IssuerDenyListOutcome> AcceptAsync(string issuerId, string json, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var rows = await Sql.ListAsync(connection, """
            SELECT root_public_key, key_set, deny_list, deny_list_version FROM issuers WHERE issuer_id = $1 FOR UPDATE
            """, r => (Root: r.GetString(0), KeySet: r.GetString(1), DenyList: r.NullableString(2), Version: r.NullableLong(3)), cancellation, issuerId);
        if (rows.Count == 0)
        {
            return new IssuerDenyListOutcome.UnknownIssuer(issuerId);
        }

        var held = rows[0];
        PublicKey root;
        KeySet keySet;
        DenyList candidate;
        try
        {
            root = KeyFiles.ParsePublicKey(held.Root);
            keySet = KeySet.Open(SignedDocument.Parse(held.KeySet), root);
            candidate = DenyList.Open(SignedDocument.Parse(json), root, keySet);
        }
        catch (TrustDocumentException ex)
        {
            return new IssuerDenyListOutcome.Refused($"issuer '{issuerId}'s deny list: {ex.Message} (it must be signed by the issuer's root or an online key its stored key set certifies)");
        }

        if (held.Version is { } version && candidate.Version <= version)
        {
            if (candidate.Version == version && held.DenyList is { } heldJson
                && DenyList.Open(SignedDocument.Parse(heldJson), root, keySet).ToPayload().AsSpan().SequenceEqual(candidate.ToPayload()))
            {
                return new IssuerDenyListOutcome.Unchanged(version);
            }

            return new IssuerDenyListOutcome.Refused(
                $"issuer '{issuerId}'s deny list version {candidate.Version} is not newer than the held version {version}");
        }

        await Sql.ExecAsync(connection, """
            UPDATE issuers SET deny_list = $2, deny_list_version = $3, updated_at = now() WHERE issuer_id = $1
            """, cancellation, issuerId, SignedDocument.Parse(json).ToJson(), candidate.Version);
        await transaction.CommitAsync(cancellation);
        return new IssuerDenyListOutcome.Stored(candidate.Version, candidate.Count);
    }
}
