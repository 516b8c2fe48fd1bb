using System.Buffers.Binary;

namespace Transit.RideCodes;

/// <summary>
/// A dynamic ride code: a credential plus a timestamp and counter, signed by the phone's key. Immutable.
/// </summary>
public sealed record RideCode
{
    /// <summary>Bytes after the credential: timestamp offset (3), counter (1), phone signature (64).</summary>
    internal const int DynamicLength = 4 + PublicKey.SignatureLength;

    /// <summary>Largest timestamp offset from the credential's not-before (2²⁴−1 seconds, about 194 days).</summary>
    public const uint MaxTimestampOffset = 0xFF_FFFF;

    internal RideCode(Credential credential, uint timestampOffset, byte counter, byte[] signature)
    {
        Credential = credential;
        TimestampOffset = timestampOffset;
        Counter = counter;
        Signature = signature;
    }

    /// <summary>The issuer-signed credential carried by the code.</summary>
    public Credential Credential { get; }

    /// <summary>Seconds from the credential's not-before to the moment the phone signed the code.</summary>
    public uint TimestampOffset { get; }

    /// <summary>When the phone signed the code.</summary>
    public DateTimeOffset Timestamp => Credential.NotBefore.AddSeconds(TimestampOffset);

    /// <summary>The phone's counter, distinguishing codes signed in the same second.</summary>
    public byte Counter { get; }

    /// <summary>The phone's 64-byte signature over <see cref="PhoneSignedMessage"/>.</summary>
    public byte[] Signature { get; }

    /// <summary>
    /// The identity of this code for replay detection: same credential, same timestamp and counter means the
    /// same code, whatever bytes carried it.
    /// The issuer is part of it: credential ids are drawn by each issuer, and one issuer's ids must not shadow another's.
    /// </summary>
    public ReplayKey ReplayKey => new(Credential.Issuer, Credential.CredentialId, (TimestampOffset << 8) | Counter);

    /// <summary>Exactly what the phone signs: <c>TR1D</c> (<c>TR2D</c> when the credential names its issuer), the credential body and issuer signature, timestamp offset and counter.</summary>
    public byte[] PhoneSignedMessage => BuildPhoneSignedMessage(Credential, TimestampOffset, Counter);

    /// <summary>
    /// Signs a new code for <paramref name="credential"/> at <paramref name="at"/> with the phone's key.
    /// </summary>
    /// <exception cref="ArgumentException">The key does not match the credential, or <paramref name="at"/> is outside the range the format holds.</exception>
    public static RideCode Sign(Credential credential, SigningKey phoneKey, DateTimeOffset at, byte counter)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(phoneKey);
        if (!phoneKey.PublicKey.Compressed.AsSpan().SequenceEqual(credential.PhonePublicKey))
        {
            throw new ArgumentException("this phone key is not the one the credential names", nameof(phoneKey));
        }

        var offset = (at - credential.NotBefore).Ticks / TimeSpan.TicksPerSecond;
        if (at < credential.NotBefore || offset > MaxTimestampOffset)
        {
            throw new ArgumentOutOfRangeException(
                nameof(at), at, $"a code's time must lie between the credential's not-before ({credential.NotBefore:O}) and 194 days after it");
        }

        var message = BuildPhoneSignedMessage(credential, (uint)offset, counter);
        return new RideCode(credential, (uint)offset, counter, phoneKey.Sign(message));
    }

    /// <summary>The code as bytes (layout in docs/ride-code.md).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Credential.EncodedLength + DynamicLength];
        Credential.WriteTo(bytes);
        var o = Credential.EncodedLength;
        WriteDynamic(bytes.AsSpan(o), TimestampOffset, Counter);
        Signature.CopyTo(bytes, o + 4);
        return bytes;
    }

    /// <summary>The code as QR text: <c>TR1:</c> (<c>TR2:</c> when the credential names its issuer) and the Base45 of <see cref="ToBytes"/>.</summary>
    public string ToText() => (Credential.Issuer is null ? RideCodeFormat.Prefix : RideCodeFormat.IssuerPrefix) + Base45.Encode(ToBytes());

    /// <inheritdoc />
    public override string ToString() => ToText();

    internal static byte[] BuildPhoneSignedMessage(Credential credential, uint offset, byte counter)
    {
        var domain = RideCodeFormat.CodeDomain(credential.FormatVersion);
        var message = new byte[domain.Length + credential.EncodedLength + 4];
        domain.CopyTo(message);
        credential.WriteTo(message.AsSpan(domain.Length));
        WriteDynamic(message.AsSpan(domain.Length + credential.EncodedLength), offset, counter);
        return message;
    }

    private static void WriteDynamic(Span<byte> destination, uint offset, byte counter) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, (offset << 8) | counter);
}

/// <summary>What identifies a code for replay detection.</summary>
/// <param name="Issuer">The issuer id the credential names; null for a version-1 (home issuer) credential.</param>
/// <param name="CredentialId">The credential's id.</param>
/// <param name="TimeAndCounter">Timestamp offset in the high 24 bits, counter in the low 8.</param>
public readonly record struct ReplayKey(string? Issuer, ulong CredentialId, uint TimeAndCounter)
{
    /// <summary>A version-1 (home issuer) code's key.</summary>
    public ReplayKey(ulong credentialId, uint timeAndCounter)
        : this(null, credentialId, timeAndCounter)
    {
    }
}

/// <summary>Outcome of parsing code text.</summary>
public enum ParseStatus
{
    /// <summary>The text is a well-formed code of a supported version.</summary>
    Ok,

    /// <summary>The text is not a ride code, or a damaged one.</summary>
    Malformed,

    /// <summary>The text is a ride code of a version this library does not read.</summary>
    UnsupportedVersion,
}

/// <summary>The text and byte form of ride codes: version 1, and version 2, which names the code's issuer.</summary>
public static class RideCodeFormat
{
    /// <summary>The prefix of version-1 code text.</summary>
    public const string Prefix = "TR1:";

    /// <summary>The prefix of version-2 code text: a code whose credential names its issuer.</summary>
    public const string IssuerPrefix = "TR2:";

    /// <summary>Longest code text accepted for parsing; anything longer is malformed without decoding.</summary>
    public const int MaxTextLength = 512;

    internal static ReadOnlySpan<byte> CredentialDomain(int version) => version == 2 ? "TR2C"u8 : "TR1C"u8;

    internal static ReadOnlySpan<byte> CodeDomain(int version) => version == 2 ? "TR2D"u8 : "TR1D"u8;

    /// <summary>Parses code text without checking any signature. Never throws.</summary>
    public static ParseStatus TryParse(string? text, out RideCode code)
    {
        code = null!;
        if (string.IsNullOrEmpty(text) || text.Length > MaxTextLength)
        {
            return ParseStatus.Malformed;
        }

        var versionStatus = CheckPrefix(text, out var payloadStart, out var version);
        if (versionStatus != ParseStatus.Ok)
        {
            return versionStatus;
        }

        if (!Base45.TryDecode(text.AsSpan(payloadStart), out var bytes))
        {
            return ParseStatus.Malformed;
        }

        return TryParse(bytes, version, out code) ? ParseStatus.Ok : ParseStatus.Malformed;
    }

    /// <summary>Parses the byte form of a version-1 code. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out RideCode code) => TryParse(bytes, 1, out code);

    /// <summary>Parses the byte form of a code of format <paramref name="version"/> (1 or 2). Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, int version, out RideCode code)
    {
        code = null!;
        if (!Credential.TryMeasureBody(bytes, version, out var bodyLength)
            || bytes.Length != bodyLength + PublicKey.SignatureLength + RideCode.DynamicLength)
        {
            return false;
        }

        var issuerSignature = bytes.Slice(bodyLength, PublicKey.SignatureLength).ToArray();
        if (!Credential.TryRead(bytes[..bodyLength], version, issuerSignature, out var credential))
        {
            return false;
        }

        var dynamicPart = bytes[(bodyLength + PublicKey.SignatureLength)..];
        var timeAndCounter = BinaryPrimitives.ReadUInt32BigEndian(dynamicPart);
        code = new RideCode(credential, timeAndCounter >> 8, unchecked((byte)timeAndCounter), dynamicPart[4..].ToArray());
        return true;
    }

    /// <summary>
    /// Reads the version prefix <c>TR&lt;digits&gt;:</c>. Text with another shape is malformed; a version other
    /// than 1 or 2 is unsupported.
    /// </summary>
    private static ParseStatus CheckPrefix(string text, out int payloadStart, out int version)
    {
        payloadStart = 0;
        version = 0;
        if (text.Length < 4 || text[0] != 'T' || text[1] != 'R')
        {
            return ParseStatus.Malformed;
        }

        var i = 2;
        while (i < text.Length && i < 8 && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i == 2 || i >= text.Length || text[i] != ':')
        {
            return ParseStatus.Malformed;
        }

        payloadStart = i + 1;
        version = text.AsSpan(2, i - 2) switch
        {
            "1" => 1,
            "2" => 2,
            _ => 0,
        };
        return version == 0 ? ParseStatus.UnsupportedVersion : ParseStatus.Ok;
    }
}
