using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Trust;

/// <summary>
/// The operator's key directory as clearing uses it. It is opened afresh for each use because other processes
/// (the <c>transit</c> command, other clearing nodes) change it; its own lock keeps those changes whole.
/// </summary>
public sealed class OperatorKeys(ClearingOptions options)
{
    /// <summary>The key directory's path.</summary>
    public string Path { get; } = options.KeyDirectory ?? System.IO.Path.Combine(Database.ProjectPaths.DataFolder(), "keys");

    /// <summary>Opens the directory, verifying its documents.</summary>
    public OperatorKeyDirectory Open() => OperatorKeyDirectory.Open(Path);

    /// <summary>The device certificate authority.</summary>
    public DeviceCertificateAuthority OpenAuthority() => Open().OpenDeviceAuthority();

    /// <summary>
    /// Signs <paramref name="payload"/> as a document of <paramref name="type"/> with the online key the key set
    /// certifies for it (the root key only in a directory from before online keys; a server's directory has none).
    /// </summary>
    public SignedDocument Sign(string type, byte[] payload) => Open().Sign(type, payload);
}
