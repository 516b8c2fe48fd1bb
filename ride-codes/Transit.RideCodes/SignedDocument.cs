using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Transit.RideCodes;

/// <summary>
/// A document signed by the operator's root key, or by an online key that the key set certifies for its type: key
/// sets, deny lists and device configurations travel to gates in this envelope. Key sets are signed by the root only.
/// The signature covers the payload bytes exactly as they are, so no JSON canonicalisation is involved.
/// </summary>
public sealed record SignedDocument
{
    /// <summary>Creates an envelope from its parts.</summary>
    public SignedDocument(string type, SignatureAlgorithm algorithm, byte[] payload, byte[] signature, ushort? onlineKeyId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        Type = type;
        Algorithm = algorithm;
        Payload = payload;
        Signature = signature;
        OnlineKeyId = onlineKeyId;
    }

    /// <summary>The document type, e.g. <c>transit-keyset</c>; signed together with the payload.</summary>
    public string Type { get; }

    /// <summary>Algorithm of the key that signed the document.</summary>
    public SignatureAlgorithm Algorithm { get; }

    /// <summary>The signed payload (UTF-8 JSON).</summary>
    public byte[] Payload { get; }

    /// <summary>The signing key's 64-byte signature.</summary>
    public byte[] Signature { get; }

    /// <summary>The online key that signed the document (its id in the key set); null when the root key signed it.</summary>
    public ushort? OnlineKeyId { get; }

    /// <summary>Signs <paramref name="payload"/> as a document of <paramref name="type"/> with the root key.</summary>
    public static SignedDocument Create(string type, byte[] payload, SigningKey rootKey)
    {
        ArgumentNullException.ThrowIfNull(rootKey);
        return new SignedDocument(type, rootKey.Algorithm, payload, rootKey.Sign(SignedBytes(type, payload)));
    }

    /// <summary>Signs <paramref name="payload"/> as a document of <paramref name="type"/> with online key <paramref name="onlineKeyId"/>.</summary>
    public static SignedDocument CreateOnline(string type, byte[] payload, SigningKey onlineKey, ushort onlineKeyId)
    {
        ArgumentNullException.ThrowIfNull(onlineKey);
        return new SignedDocument(type, onlineKey.Algorithm, payload, onlineKey.Sign(SignedBytes(type, payload)), onlineKeyId);
    }

    /// <summary>True when the signature is <paramref name="key"/>'s over this type and payload.</summary>
    public bool IsSignedBy(PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Algorithm == Algorithm && key.Verify(SignedBytes(Type, Payload), Signature);
    }

    /// <summary>The envelope as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(
        new Envelope(Type, Algorithm.ToName(), Convert.ToBase64String(Payload), Convert.ToBase64String(Signature), OnlineKeyId),
        TrustJsonContext.Default.Envelope);

    /// <summary>Reads an envelope; the message of <see cref="TrustDocumentException"/> says what is wrong.</summary>
    public static SignedDocument Parse(string json)
    {
        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(json, TrustJsonContext.Default.Envelope);
        }
        catch (JsonException ex)
        {
            throw new TrustDocumentException($"not a signed document: {ex.Message}", ex);
        }

        if (envelope is null || string.IsNullOrEmpty(envelope.Type) || envelope.Payload is null || envelope.Signature is null)
        {
            throw new TrustDocumentException("not a signed document: type, payload or signature missing");
        }

        if (!SignatureAlgorithmNames.TryParse(envelope.Alg, out var algorithm))
        {
            throw new TrustDocumentException($"unknown signature algorithm '{envelope.Alg}'");
        }

        try
        {
            return new SignedDocument(
                envelope.Type, algorithm, Convert.FromBase64String(envelope.Payload), Convert.FromBase64String(envelope.Signature), envelope.OnlineKey);
        }
        catch (FormatException ex)
        {
            throw new TrustDocumentException("payload or signature is not base64", ex);
        }
    }

    /// <summary>
    /// Checks type and signature and returns the payload; throws <see cref="TrustDocumentException"/> otherwise. The
    /// signature is the root key's, or that of an online key which <paramref name="keySet"/> certifies for this type
    /// and has not revoked; without a key set only the root signs. A key set is accepted from the root alone.
    /// </summary>
    public byte[] OpenPayload(string expectedType, PublicKey rootKey, KeySet? keySet = null)
    {
        ArgumentNullException.ThrowIfNull(rootKey);
        if (Type != expectedType)
        {
            throw new TrustDocumentException($"expected a {expectedType} document, got {Type}");
        }

        if (OnlineKeyId is not { } onlineKeyId)
        {
            return IsSignedBy(rootKey) ? Payload : throw new TrustDocumentException($"the {Type} document's root signature does not verify");
        }

        if (Type == KeySet.DocumentType)
        {
            throw new TrustDocumentException($"a key set is signed by the root key only, and this one names online key {onlineKeyId}");
        }

        if (keySet is null)
        {
            throw new TrustDocumentException($"the {Type} document is signed by online key {onlineKeyId}, and no key set is at hand to certify it");
        }

        var signer = keySet.CertifiedOnlineKey(onlineKeyId, Type);
        return IsSignedBy(signer.PublicKey)
            ? Payload
            : throw new TrustDocumentException($"the {Type} document's signature by online key {onlineKeyId} does not verify");
    }

    /// <summary>
    /// <see cref="OpenPayload(string, PublicKey, KeySet)"/>, then reads the payload as JSON of <paramref name="payloadType"/>;
    /// null when the payload is the JSON literal null, so that each kind of document words that case itself.
    /// </summary>
    /// <param name="expectedType">The document type required.</param>
    /// <param name="rootKey">The operator's root public key.</param>
    /// <param name="keySet">The key set whose online keys may sign this type; null: the root key only.</param>
    /// <param name="payloadType">The payload's JSON contract.</param>
    /// <param name="what">Prefix of the error message when the payload is not valid JSON of that type.</param>
    /// <exception cref="TrustDocumentException">Wrong type, a signature that does not verify, or JSON that does not read.</exception>
    public T? ReadPayload<T>(string expectedType, PublicKey rootKey, KeySet? keySet, JsonTypeInfo<T> payloadType, string what)
    {
        var payload = OpenPayload(expectedType, rootKey, keySet);
        try
        {
            return JsonSerializer.Deserialize(payload, payloadType);
        }
        catch (JsonException ex)
        {
            throw new TrustDocumentException($"{what}: {ex.Message}", ex);
        }
    }

    private static byte[] SignedBytes(string type, byte[] payload) =>
        [.. "transit-signed-v1\n"u8, .. Encoding.UTF8.GetBytes(type), (byte)'\n', .. payload];

    internal sealed record Envelope(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("alg")] string Alg,
        [property: JsonPropertyName("payload")] string Payload,
        [property: JsonPropertyName("signature")] string Signature,
        [property: JsonPropertyName("onlineKey"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ushort? OnlineKey = null);
}

/// <summary>A key set, deny list or device configuration that cannot be used: bad signature, wrong type, bad content or out of order.</summary>
public sealed class TrustDocumentException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrustDocumentException()
    {
    }

    /// <summary>Creates the exception with a message that names the problem.</summary>
    public TrustDocumentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    public TrustDocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
