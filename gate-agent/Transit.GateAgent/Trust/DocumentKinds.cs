namespace Transit.GateAgent.Trust;

/// <summary>Kinds of trust documents kept by <see cref="TrustDocumentStore"/>.</summary>
public static class DocumentKinds
{
    /// <summary>The signed key set.</summary>
    public const string KeySet = "keyset";

    /// <summary>The signed full deny list.</summary>
    public const string DenyList = "denylist";

    /// <summary>The signed device configuration.</summary>
    public const string Config = "config";

    /// <summary>
    /// The operator's signed issuer acceptance list with each accepted issuer's key set and deny list: one row, so
    /// the issuers' trust is replaced as a whole or not at all.
    /// </summary>
    public const string Issuers = "issuers";
}
