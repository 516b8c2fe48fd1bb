using System.Security.Cryptography;
using Npgsql;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;
using Transit.RideCodes;

namespace Transit.Clearing.Riders;

/// <summary>Why an account gets no credential, and what it owes (docs/rider.md).</summary>
public sealed record RiderRefusal(string[] Reasons, long Debt, string Currency);

/// <summary>A credential just issued, as the API answers it.</summary>
public sealed record IssuedCredential(string Credential, string CredentialId, int KeyId, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

/// <summary>
/// Signs riders' phone keys into credentials with the key directory's active issuer key (the same encoder and signer
/// as <c>transit codes credential</c>), and refuses accounts that are denied or in debt.
/// </summary>
public sealed class RiderIssuer(NpgsqlDataSource dataSource, OperatorKeys keys, ClearingOptions options, TimeProvider time)
{
    /// <summary>
    /// Reads a P-256 public key sent as base64 of its SPKI DER (WebCrypto's <c>spki</c> export), of its uncompressed
    /// SEC1 point (<c>raw</c> export, 65 bytes) or of its compressed point (33 bytes); the error names what is wrong.
    /// </summary>
    public static bool TryParsePhoneKey(string? text, out PublicKey key, out string error)
    {
        key = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(text) || text.Length > 400)
        {
            error = "must be base64 of a P-256 public key (SPKI DER, or a SEC1 point of 33 or 65 bytes)";
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            error = "is not base64";
            return false;
        }

        byte[]? compressed = bytes.Length switch
        {
            PublicKey.CompressedLength => bytes,
            65 when bytes[0] == 4 => FromPoint(bytes[1..33], bytes[33..]),
            _ => FromSpki(bytes),
        };
        if (compressed is null || !PublicKey.TryImport(SignatureAlgorithm.P256, compressed, out key))
        {
            error = "is not a point of the P-256 curve (send SPKI DER, or a SEC1 point of 33 or 65 bytes)";
            return false;
        }

        return true;
    }

    /// <summary>Null when the account may have a credential; otherwise why not and what it owes.</summary>
    public async Task<RiderRefusal?> RefusalAsync(string account, CancellationToken cancellation)
    {
        var state = await Sql.ListAsync(dataSource, """
            SELECT debt, deny_reasons, (SELECT currency FROM charges c WHERE c.account = a.account ORDER BY charge_id DESC LIMIT 1)
            FROM accounts a WHERE account = $1
            """, r => (Debt: r.GetInt64(0), Reasons: r.GetFieldValue<string[]>(1), Currency: r.NullableString(2)), cancellation, account);
        var (debt, reasons, currency) = state.Count == 0 ? (0, [], null) : state[0];
        // Reasons clearing keeps (debt, manual), and an entry on the published list that clearing has not yet lifted
        // (or that was added by hand with `transit deny add`): a credential would only be refused at every gate.
        var listed = keys.Open().DenyList.Accounts.Contains(account);
        var all = reasons.Concat(debt > 0 && !reasons.Contains("debt") ? ["debt"] : []).Concat(listed && reasons.Length == 0 && debt == 0 ? ["deny-list"] : []).ToArray();
        return all.Length == 0 ? null : new RiderRefusal(all, debt, currency ?? options.Analytics.Currency);
    }

    /// <summary>Issues and records a credential for <paramref name="phoneKey"/>.</summary>
    /// <exception cref="ArgumentException">The issuer key's algorithm is not the phone key's (an SM2 issuer).</exception>
    public async Task<IssuedCredential> IssueAsync(string account, PublicKey phoneKey, string? clientAddress, CancellationToken cancellation)
    {
        var settings = options.Riders;
        var (issuerKey, privateKey) = keys.Open().OpenIssuingKey();
        Credential credential;
        using (privateKey)
        {
            var now = time.GetUtcNow();
            var notBefore = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()) - settings.ClockAllowance;
            credential = Credential.Issue(privateKey, issuerKey.KeyId, account, settings.Category, notBefore, settings.CredentialValidity + settings.ClockAllowance, phoneKey);
        }

        await Sql.ExecAsync(dataSource, """
            INSERT INTO rider_credentials (credential_id, account, key_id, phone_key, not_before, not_after, client_address) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, cancellation, credential.CredentialIdText, account, (int)credential.KeyId, credential.PhonePublicKey, credential.NotBefore, credential.NotAfter,
            Sql.Typed(clientAddress, NpgsqlTypes.NpgsqlDbType.Text));
        return new IssuedCredential(Convert.ToBase64String(credential.ToBytes()), credential.CredentialIdText, credential.KeyId, credential.NotBefore, credential.NotAfter);
    }

    private static byte[]? FromSpki(byte[] der)
    {
        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(der, out var read);
            var parameters = ecdsa.ExportParameters(false);
            return read == der.Length && parameters.Curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value ? FromPoint(parameters.Q.X!, parameters.Q.Y!) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    // The point's own check happens in PublicKey.TryImport: a compressed x that is on the curve, with y's parity.
    // An uncompressed point whose y is not the curve's y for x is refused here, not silently "corrected".
    private static byte[]? FromPoint(byte[] x, byte[] y)
    {
        try
        {
            using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
            return [(byte)(2 + (y[^1] & 1)), .. x];
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
