using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Transit.RideCodes;

/// <summary>
/// An issuer-signed credential: who the rider is (a pseudonymous account token and a rider category), for how
/// long, and which phone key may sign codes for it. Immutable; <see cref="Body"/> and
/// <see cref="IssuerSignature"/> are the exact bytes that travel in every code.
/// </summary>
public sealed record Credential
{
    /// <summary>Longest account token, in ASCII characters.</summary>
    public const int MaxAccountLength = 16;

    /// <summary>Longest rider category id, in ASCII characters.</summary>
    public const int MaxCategoryLength = 15;

    /// <summary>
    /// Longest account token and category together for which a code stays within 300 characters
    /// (see docs/ride-code.md, "Size").
    /// </summary>
    public const int MaxAccountAndCategoryLength = 15;

    /// <summary>
    /// Longest account token, category and issuer id together in a credential that names its issuer (<c>TR2</c>), for
    /// which its codes stay within 300 characters.
    /// </summary>
    public const int MaxAccountCategoryAndIssuerLength = 14;

    /// <summary>Longest validity window (65,535 minutes, about 45 days).</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromMinutes(ushort.MaxValue);

    internal const int FixedBodyLength = 17 + PublicKey.CompressedLength;

    private Credential(
        string? issuer,
        ushort keyId,
        ulong credentialId,
        string account,
        string category,
        DateTimeOffset notBefore,
        DateTimeOffset notAfter,
        byte[] phonePublicKey,
        byte[] body,
        byte[] issuerSignature)
    {
        Issuer = issuer;
        KeyId = keyId;
        CredentialId = credentialId;
        Account = account;
        Category = category;
        NotBefore = notBefore;
        NotAfter = notAfter;
        PhonePublicKey = phonePublicKey;
        Body = body;
        IssuerSignature = issuerSignature;
    }

    /// <summary>
    /// The issuer id the credential names (format version 2, <c>TR2</c>); null for a version-1 credential, which
    /// belongs to the operator's own (home) issuer.
    /// </summary>
    public string? Issuer { get; }

    /// <summary>The format version of the credential and its codes: 1 without an issuer id, 2 with one.</summary>
    public int FormatVersion => Issuer is null ? 1 : 2;

    /// <summary>Id of the issuer key that signed the credential.</summary>
    public ushort KeyId { get; }

    /// <summary>The credential's random 64-bit id (deny lists name it as 16 lower-case hex digits).</summary>
    public ulong CredentialId { get; }

    /// <summary><see cref="CredentialId"/> as 16 lower-case hex digits.</summary>
    public string CredentialIdText => FormatCredentialId(CredentialId);

    /// <summary>The pseudonymous account token.</summary>
    public string Account { get; }

    /// <summary>The rider category id (GTFS <c>rider_category_id</c>); empty means the feed's default category.</summary>
    public string Category { get; }

    /// <summary>Start of validity (whole seconds, UTC).</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>End of validity, exclusive (whole minutes after <see cref="NotBefore"/>).</summary>
    public DateTimeOffset NotAfter { get; }

    /// <summary>The phone's compressed public key (33 bytes).</summary>
    public byte[] PhonePublicKey { get; }

    /// <summary>The signed bytes (layout in docs/ride-code.md).</summary>
    public byte[] Body { get; }

    /// <summary>The issuer's 64-byte signature over <see cref="IssuerSignedMessage"/>.</summary>
    public byte[] IssuerSignature { get; }

    /// <summary>
    /// Exactly what the issuer signs: the ASCII domain tag (<c>TR1C</c>, or <c>TR2C</c> for a credential naming its
    /// issuer) followed by <see cref="Body"/>, which holds the issuer id, so that no credential changes issuer.
    /// </summary>
    public byte[] IssuerSignedMessage => [.. RideCodeFormat.CredentialDomain(FormatVersion), .. Body];

    /// <summary>Length of the credential part of a code: body and issuer signature.</summary>
    public int EncodedLength => Body.Length + PublicKey.SignatureLength;

    /// <summary>Formats a credential id the way deny lists and logs show it.</summary>
    public static string FormatCredentialId(ulong credentialId) => credentialId.ToString("x16");

    /// <summary>Parses 16 hex digits as a credential id.</summary>
    public static bool TryParseCredentialId(string? text, out ulong credentialId) =>
        ulong.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, null, out credentialId) && text!.Length == 16;

    /// <summary>
    /// Issues a credential: builds the body and signs it with <paramref name="issuerKey"/>. With
    /// <paramref name="issuer"/> the credential names its issuer (format version 2, <c>TR2</c> codes); without, it is a
    /// version-1 credential of the operator's own issuer.
    /// </summary>
    /// <exception cref="ArgumentException">A field is out of range; the message names it.</exception>
    public static Credential Issue(
        SigningKey issuerKey,
        ushort keyId,
        string account,
        string category,
        DateTimeOffset notBefore,
        TimeSpan validity,
        PublicKey phoneKey,
        ulong? credentialId = null,
        string? issuer = null)
    {
        ArgumentNullException.ThrowIfNull(issuerKey);
        ArgumentNullException.ThrowIfNull(phoneKey);
        ValidateToken(account, nameof(account), 1, MaxAccountLength);
        ValidateToken(category, nameof(category), 0, MaxCategoryLength);
        if (issuer is not null)
        {
            IssuerIds.Validate(issuer, nameof(issuer));
        }

        var issuerLength = issuer?.Length ?? 0;
        var limit = issuer is null ? MaxAccountAndCategoryLength : MaxAccountCategoryAndIssuerLength;
        if (account.Length + category.Length + issuerLength > limit)
        {
            throw new ArgumentException(
                (issuer is null
                    ? $"account token and rider category together may have at most {limit} characters (got {account.Length} + {category.Length})"
                    : $"account token, rider category and issuer id together may have at most {limit} characters (got {account.Length} + {category.Length} + {issuerLength})")
                + " so that a code fits a 300-character QR code",
                nameof(account));
        }

        if (phoneKey.Algorithm != issuerKey.Algorithm)
        {
            throw new ArgumentException(
                $"the phone key is {phoneKey.Algorithm.ToName()} but the issuer key is {issuerKey.Algorithm.ToName()}",
                nameof(phoneKey));
        }

        var minutes = validity.TotalMinutes;
        if (minutes < 1 || minutes > ushort.MaxValue || validity.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(validity), validity, "validity must be whole minutes between 1 minute and 45 days");
        }

        var nbSeconds = notBefore.ToUnixTimeSeconds();
        if (nbSeconds < 0 || nbSeconds > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(notBefore), notBefore, "not-before must lie between 1970 and 2106");
        }

        var id = credentialId ?? BinaryPrimitives.ReadUInt64BigEndian(RandomNumberGenerator.GetBytes(8));
        var prefix = issuer is null ? 0 : 1 + issuerLength;
        var body = new byte[prefix + FixedBodyLength + account.Length + category.Length];
        if (issuer is not null)
        {
            body[0] = (byte)issuerLength;
            Encoding.ASCII.GetBytes(issuer, body.AsSpan(1));
        }

        var fields = body.AsSpan(prefix);
        BinaryPrimitives.WriteUInt16BigEndian(fields, keyId);
        BinaryPrimitives.WriteUInt64BigEndian(fields[2..], id);
        BinaryPrimitives.WriteUInt32BigEndian(fields[10..], (uint)nbSeconds);
        BinaryPrimitives.WriteUInt16BigEndian(fields[14..], (ushort)minutes);
        fields[16] = (byte)(((account.Length - 1) << 4) | category.Length);
        var o = 17;
        o += Encoding.ASCII.GetBytes(account, fields[o..]);
        o += Encoding.ASCII.GetBytes(category, fields[o..]);
        phoneKey.Compressed.CopyTo(fields[o..]);

        var version = issuer is null ? 1 : 2;
        var signature = issuerKey.Sign([.. RideCodeFormat.CredentialDomain(version), .. body]);
        return TryRead(body.AsSpan(), version, signature, out var credential)
            ? credential
            : throw new InvalidOperationException("a freshly built credential did not parse");
    }

    /// <summary>Writes the credential part of a code (body, then issuer signature).</summary>
    public void WriteTo(Span<byte> destination)
    {
        Body.CopyTo(destination);
        IssuerSignature.CopyTo(destination[Body.Length..]);
    }

    /// <summary>The credential part of a code as bytes (body, then issuer signature).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[EncodedLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Parses a stored version-1 credential (body followed by issuer signature, nothing after).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out Credential credential) => TryParse(data, 1, out credential);

    /// <summary>
    /// Parses a stored credential of format <paramref name="version"/> (1, or 2 for one naming its issuer): body
    /// followed by issuer signature, nothing after.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, int version, out Credential credential)
    {
        credential = null!;
        if (!TryMeasureBody(data, version, out var bodyLength) || data.Length != bodyLength + PublicKey.SignatureLength)
        {
            return false;
        }

        return TryRead(data[..bodyLength], version, data[bodyLength..].ToArray(), out credential);
    }

    /// <summary>
    /// The length of the body at the start of <paramref name="data"/>: in version 2 an issuer id (length byte, then
    /// the id) comes before the version-1 fields.
    /// </summary>
    internal static bool TryMeasureBody(ReadOnlySpan<byte> data, int version, out int bodyLength)
    {
        bodyLength = 0;
        var prefix = 0;
        if (version == 2)
        {
            if (data.Length == 0 || data[0] is 0 or > IssuerIds.MaxLength)
            {
                return false;
            }

            prefix = 1 + data[0];
        }

        if (data.Length < prefix + FixedBodyLength)
        {
            return false;
        }

        var lengths = data[prefix + 16];
        bodyLength = prefix + FixedBodyLength + (lengths >> 4) + 1 + (lengths & 0x0F);
        return data.Length >= bodyLength;
    }

    internal static bool TryRead(ReadOnlySpan<byte> body, int version, byte[] issuerSignature, out Credential credential)
    {
        credential = null!;
        if (!TryMeasureBody(body, version, out var bodyLength) || bodyLength != body.Length || issuerSignature.Length != PublicKey.SignatureLength)
        {
            return false;
        }

        string? issuer = null;
        var fields = body;
        if (version == 2)
        {
            issuer = Encoding.Latin1.GetString(body.Slice(1, body[0]));
            if (!IssuerIds.IsValid(issuer))
            {
                return false;
            }

            fields = body[(1 + body[0])..];
        }

        var accountLength = (fields[16] >> 4) + 1;
        var categoryLength = fields[16] & 0x0F;
        var accountBytes = fields.Slice(17, accountLength);
        var categoryBytes = fields.Slice(17 + accountLength, categoryLength);
        if (!IsToken(accountBytes) || !IsToken(categoryBytes))
        {
            return false;
        }

        var key = fields.Slice(17 + accountLength + categoryLength, PublicKey.CompressedLength);
        if (key[0] != 2 && key[0] != 3)
        {
            return false;
        }

        var minutes = BinaryPrimitives.ReadUInt16BigEndian(fields[14..]);
        if (minutes == 0)
        {
            return false;
        }

        var notBefore = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32BigEndian(fields[10..]));
        credential = new Credential(
            issuer,
            BinaryPrimitives.ReadUInt16BigEndian(fields),
            BinaryPrimitives.ReadUInt64BigEndian(fields[2..]),
            Encoding.ASCII.GetString(accountBytes),
            Encoding.ASCII.GetString(categoryBytes),
            notBefore,
            notBefore.AddMinutes(minutes),
            key.ToArray(),
            body.ToArray(),
            issuerSignature);
        return true;
    }

    private static bool IsToken(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    private static void ValidateToken(string value, string name, int min, int max)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length < min || value.Length > max)
        {
            throw new ArgumentException($"{name} must have {min} to {max} characters (got {value.Length})", name);
        }

        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                throw new ArgumentException($"{name} may hold only printable ASCII without spaces (found U+{(int)c:X4})", name);
            }
        }
    }
}
