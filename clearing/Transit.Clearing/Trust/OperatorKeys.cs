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

    /// <summary>Signs <paramref name="payload"/> as a document of <paramref name="type"/> with the root key.</summary>
    public SignedDocument SignWithRoot(string type, byte[] payload)
    {
        var directory = Open();
        using var root = KeyFiles.ParsePrivateKey(File.ReadAllText(directory.RootKeyPath), out _);
        return SignedDocument.Create(type, payload, root);
    }
}
