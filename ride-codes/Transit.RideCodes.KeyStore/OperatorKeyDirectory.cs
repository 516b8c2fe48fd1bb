using System.Globalization;

namespace Transit.RideCodes.KeyStore;

/// <summary>
/// The operator's key directory: root key, issuer keys, online key, the signed key set, the deny list with its deltas
/// and the device certificate authority, as files (layout in docs/operations.md). Every change is written atomically
/// under a directory lock, so a crash or a second process never leaves a half-written state. A server's copy
/// (<see cref="ExportServer"/>) has no root private key: it signs deny lists and device configurations with the
/// online key, which the key set certifies for those documents only, and cannot change the key set.
/// </summary>
public sealed class OperatorKeyDirectory
{
    /// <summary>How long a retired issuer key keeps verifying after a rotation, by default.</summary>
    public static readonly TimeSpan DefaultRotationOverlap = TimeSpan.FromDays(7);

    private readonly TimeProvider _time;

    private OperatorKeyDirectory(string path, TimeProvider time, PublicKey rootPublicKey, KeySet keySet, DenyList denyList)
    {
        Path = path;
        _time = time;
        RootPublicKey = rootPublicKey;
        KeySet = keySet;
        DenyList = denyList;
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The root public key (the file every gate installs).</summary>
    public PublicKey RootPublicKey { get; }

    /// <summary>The current key set.</summary>
    public KeySet KeySet { get; private set; }

    /// <summary>The current deny list.</summary>
    public DenyList DenyList { get; private set; }

    /// <summary>Path of the root private key; absent from a server's key directory.</summary>
    public string RootKeyPath => Combine(Path, "root.key.json");

    /// <summary>True when the directory holds the root private key (the offline copy).</summary>
    public bool HasRootKey => File.Exists(RootKeyPath);

    /// <summary>Path of the current online key's private half (the server signs deny lists and device configurations with it).</summary>
    public string OnlineKeyPath => Combine(Path, "online.key.json");

    /// <summary>Path of the root public key, to install on gates.</summary>
    public string RootPublicKeyPath => Combine(Path, "root.pub.json");

    /// <summary>Path of the signed key set.</summary>
    public string KeySetPath => Combine(Path, "keyset.json");

    /// <summary>Path of the signed full deny list.</summary>
    public string DenyListPath => Combine(Path, "denylist.json");

    /// <summary>Folder of signed deny-list deltas, one file per version.</summary>
    public string DenyListDeltaFolder => Combine(Path, "denylist-deltas");

    /// <summary>Path of the device CA certificate (PEM).</summary>
    public string CaCertificatePath => Combine(Path, "ca.crt.pem");

    /// <summary>Path of the device CA private key (PEM).</summary>
    public string CaKeyPath => Combine(Path, "ca.key.pem");

    /// <summary>Path of the clearing server's TLS certificate (PEM).</summary>
    public string ServerCertificatePath => Combine(Path, "server.crt.pem");

    /// <summary>Path of the clearing server's TLS private key (PEM).</summary>
    public string ServerKeyPath => Combine(Path, "server.key.pem");

    /// <summary>True when <paramref name="path"/> holds an initialised key directory (the offline copy or a server's).</summary>
    public static bool Exists(string path) => File.Exists(Combine(path, "keyset.json"));

    /// <summary>
    /// Creates a new key directory: root key, first issuer key (id 1), online key (id 1), key set version 1, empty
    /// deny list version 1, device CA and a clearing server certificate for localhost. With <paramref name="issuerId"/>
    /// the key set declares that issuer id and its credentials name it (<c>TR2</c> codes); without, the directory is the
    /// operator's own (home) issuer of <c>TR1</c> codes.
    /// </summary>
    /// <exception cref="KeyDirectoryException">The directory already holds keys, or the issuer id is not one.</exception>
    public static OperatorKeyDirectory Init(
        string path, SignatureAlgorithm algorithm, TimeProvider? time = null, string operatorName = "Transit", string? issuerId = null)
    {
        time ??= TimeProvider.System;
        if (issuerId is not null && !IssuerIds.IsValid(issuerId))
        {
            throw new KeyDirectoryException($"issuer id '{issuerId}' must have {IssuerIds.Rule}");
        }

        path = System.IO.Path.GetFullPath(path);
        if (Exists(path) || File.Exists(Combine(path, "root.key.json")))
        {
            throw new KeyDirectoryException($"{path} already holds a key directory; refusing to overwrite its root key");
        }

        Directory.CreateDirectory(path);
        using var dirLock = DirectoryLock.Acquire(path);
        var now = Truncate(time.GetUtcNow());
        using var root = SigningKey.Generate(algorithm);
        using var issuer = SigningKey.Generate(algorithm);
        using var online = SigningKey.Generate(algorithm);
        AtomicFile.WriteAllText(Combine(path, "root.key.json"), KeyFiles.FormatPrivateKey(root), secret: true);
        AtomicFile.WriteAllText(Combine(path, "root.pub.json"), KeyFiles.FormatPublicKey(root.PublicKey));
        AtomicFile.WriteAllText(IssuerKeyPath(path, 1), KeyFiles.FormatPrivateKey(issuer, 1), secret: true);
        AtomicFile.WriteAllText(Combine(path, "online.key.json"), KeyFiles.FormatPrivateKey(online, 1), secret: true);

        var keySet = new KeySet(
            1, now, [new IssuerKey(1, issuer.PublicKey, KeyStatus.Active, now, null)],
            [new OnlineKey(1, online.PublicKey, KeyStatus.Active, OnlineKey.DelegableDocuments)],
            issuerId);
        AtomicFile.WriteAllText(Combine(path, "keyset.json"), keySet.Sign(root).ToJson());
        var denyList = new DenyList(1, now, [], []);
        AtomicFile.WriteAllText(Combine(path, "denylist.json"), denyList.Sign(root).ToJson());

        using var ca = DeviceCertificateAuthority.Create(operatorName, now);
        ca.Save(Combine(path, "ca.crt.pem"), Combine(path, "ca.key.pem"));
        using var server = ca.IssueServerCertificate(["localhost", "127.0.0.1", "::1"], now);
        DeviceCertificateAuthority.SaveWithKey(server, Combine(path, "server.crt.pem"), Combine(path, "server.key.pem"));
        return new OperatorKeyDirectory(path, time, root.PublicKey, keySet, denyList);
    }

    /// <summary>
    /// Opens an existing key directory (with or without the root private key), verifying its key set against the root
    /// public key and its deny list against the root or a certified online key.
    /// </summary>
    /// <exception cref="KeyDirectoryException">Missing or damaged files; the message names the file.</exception>
    public static OperatorKeyDirectory Open(string path, TimeProvider? time = null)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!Exists(path))
        {
            throw new KeyDirectoryException($"{path} is not a key directory (no keyset.json); create one with 'transit keys init --dir {path}'");
        }

        var rootPublic = ReadFile(Combine(path, "root.pub.json"), KeyFiles.ParsePublicKey);
        var keySet = ReadFile(Combine(path, "keyset.json"), json => KeySet.Open(SignedDocument.Parse(json), rootPublic));
        var denyList = ReadFile(Combine(path, "denylist.json"), json => DenyList.Open(SignedDocument.Parse(json), rootPublic, keySet));
        return new OperatorKeyDirectory(path, time ?? TimeProvider.System, rootPublic, keySet, denyList);
    }

    /// <summary>The signed key set as stored.</summary>
    public SignedDocument ReadSignedKeySet() => SignedDocument.Parse(File.ReadAllText(KeySetPath));

    /// <summary>The signed full deny list as stored.</summary>
    public SignedDocument ReadSignedDenyList() => SignedDocument.Parse(File.ReadAllText(DenyListPath));

    /// <summary>The signed deltas after <paramref name="version"/>, in order; empty when none are stored.</summary>
    public IReadOnlyList<SignedDocument> ReadDenyListDeltasAfter(long version)
    {
        var deltas = new List<SignedDocument>();
        for (var v = version + 1; v <= DenyList.Version; v++)
        {
            var file = DeltaPath(v);
            if (!File.Exists(file))
            {
                return [];
            }

            deltas.Add(SignedDocument.Parse(File.ReadAllText(file)));
        }

        return deltas;
    }

    /// <summary>The newest active issuer key with its private half, for issuing credentials.</summary>
    /// <exception cref="KeyDirectoryException">No active key, or its private key file is missing.</exception>
    public (IssuerKey Key, SigningKey PrivateKey) OpenIssuingKey()
    {
        var key = KeySet.CurrentIssuingKey(_time.GetUtcNow())
            ?? throw new KeyDirectoryException("the key set has no active issuer key; run 'transit keys rotate'");
        return (key, OpenIssuerPrivateKey(key.KeyId));
    }

    /// <summary>The private half of issuer key <paramref name="keyId"/>.</summary>
    public SigningKey OpenIssuerPrivateKey(ushort keyId) =>
        ReadFile(IssuerKeyPath(Path, keyId), json => KeyFiles.ParsePrivateKey(json, out _));

    /// <summary>The device certificate authority.</summary>
    public DeviceCertificateAuthority OpenDeviceAuthority() => DeviceCertificateAuthority.Load(CaCertificatePath, CaKeyPath);

    /// <summary>
    /// Replaces the clearing server's TLS certificate (<c>server.crt.pem</c>, <c>server.key.pem</c>) with one the device
    /// CA issues for <paramref name="hostNames"/> (DNS names or IP addresses; the first is the subject's CN), plus
    /// <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c> so that tools on the server itself keep connecting.
    /// </summary>
    /// <exception cref="KeyDirectoryException">No host name, or one that is neither a DNS name nor an IP address.</exception>
    public IReadOnlyList<string> IssueServerCertificate(IEnumerable<string> hostNames)
    {
        ArgumentNullException.ThrowIfNull(hostNames);
        var names = hostNames.Select(h => h.Trim()).ToList();
        if (names.Count == 0)
        {
            throw new KeyDirectoryException("give at least one --host: the name the gates reach the clearing server by");
        }

        foreach (var name in names.Where(n => !IsHostName(n)))
        {
            throw new KeyDirectoryException($"--host '{string.Concat(name.Where(c => !char.IsControl(c)))}' is neither a DNS name (letters, digits, '-' between dots) nor an IP address");
        }

        var all = names.Concat(["localhost", "127.0.0.1", "::1"]).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        using var dirLock = DirectoryLock.Acquire(Path);
        using var ca = OpenDeviceAuthority();
        using var server = ca.IssueServerCertificate(all, _time.GetUtcNow());
        DeviceCertificateAuthority.SaveWithKey(server, ServerCertificatePath, ServerKeyPath);
        return all;
    }

    private static bool IsHostName(string name) =>
        System.Net.IPAddress.TryParse(name, out _)
        || (name.Length is > 0 and <= 253 && name.Split('.').All(label =>
            label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')));

    /// <summary>
    /// Adds a new active issuer key; keys that were active become retired and keep verifying for
    /// <paramref name="overlap"/> so that credentials already issued stay usable.
    /// </summary>
    public IssuerKey Rotate(SignatureAlgorithm algorithm, TimeSpan? overlap = null)
    {
        using var dirLock = DirectoryLock.Acquire(Path);
        Reload();
        var now = Truncate(_time.GetUtcNow());
        var retireAt = now + (overlap ?? DefaultRotationOverlap);
        var nextId = KeySet.Keys.IsEmpty ? 1 : KeySet.Keys.Max(k => k.KeyId) + 1;
        if (nextId > ushort.MaxValue)
        {
            throw new KeyDirectoryException("all 65,535 key ids are used");
        }

        using var issuer = SigningKey.Generate(algorithm);
        AtomicFile.WriteAllText(IssuerKeyPath(Path, (ushort)nextId), KeyFiles.FormatPrivateKey(issuer, (ushort)nextId), secret: true);
        var added = new IssuerKey((ushort)nextId, issuer.PublicKey, KeyStatus.Active, now, null);
        var keys = KeySet.Keys
            .Select(k => k.Status == KeyStatus.Active ? k with { Status = KeyStatus.Retired, ValidUntil = Earliest(k.ValidUntil, retireAt) } : k)
            .Append(added);
        WriteKeySet(KeySet.With(keys, now));
        return added;
    }

    /// <summary>
    /// Creates a new online key and certifies it in a new key set version for every delegable document type; online
    /// keys that were active become retired (what they signed keeps verifying), or revoked with
    /// <paramref name="revokePrevious"/> (after a server was compromised: gates then refuse what they signed).
    /// </summary>
    /// <exception cref="KeyDirectoryException">No root key here (a server's directory).</exception>
    public OnlineKey RotateOnlineKey(SignatureAlgorithm algorithm, bool revokePrevious = false)
    {
        using var dirLock = DirectoryLock.Acquire(Path);
        Reload();
        using var root = OpenRootKey();
        var nextId = KeySet.OnlineKeys.IsEmpty ? 1 : KeySet.OnlineKeys.Max(k => k.KeyId) + 1;
        if (nextId > ushort.MaxValue)
        {
            throw new KeyDirectoryException("all 65,535 online key ids are used");
        }

        using var online = SigningKey.Generate(algorithm);
        var added = new OnlineKey((ushort)nextId, online.PublicKey, KeyStatus.Active, OnlineKey.DelegableDocuments);
        var onlineKeys = KeySet.OnlineKeys
            .Select(k => k.Status == KeyStatus.Active ? k with { Status = revokePrevious ? KeyStatus.Revoked : KeyStatus.Retired } : k)
            .Append(added);
        var keySet = KeySet.With(KeySet.Keys, Truncate(_time.GetUtcNow()), onlineKeys);

        // The key file first: a crash in between leaves a key nobody certified, never a certified key nobody holds.
        AtomicFile.WriteAllText(OnlineKeyPath, KeyFiles.FormatPrivateKey(online, added.KeyId), secret: true);
        AtomicFile.WriteAllText(KeySetPath, keySet.Sign(root).ToJson());
        KeySet = keySet;
        return added;
    }

    /// <summary>
    /// Signs a document of a type online keys may sign (<see cref="OnlineKey.DelegableDocuments"/>): with the online
    /// key when the directory has one, which the key set must certify; with the root key in a directory from before
    /// online keys.
    /// </summary>
    /// <exception cref="KeyDirectoryException">No key here may sign the type.</exception>
    public SignedDocument Sign(string documentType, byte[] payload)
    {
        var (key, onlineKeyId) = OpenSigner(documentType);
        using (key)
        {
            return onlineKeyId is { } id
                ? SignedDocument.CreateOnline(documentType, payload, key, id)
                : SignedDocument.Create(documentType, payload, key);
        }
    }

    /// <summary>Checks that the directory can sign every type a server signs, so that a server refuses to start otherwise.</summary>
    /// <exception cref="KeyDirectoryException">No key here may sign one of them; the message says what to do.</exception>
    public void EnsureCanSignEverydayDocuments()
    {
        foreach (var type in OnlineKey.DelegableDocuments)
        {
            OpenSigner(type).Key.Dispose();
        }
    }

    /// <summary>
    /// Writes what the clearing server needs, and no root private key, to <paramref name="destination"/>: root public
    /// key, key set, online key, current issuer key, device CA, server certificate, and the deny list when the
    /// destination has none yet (a server's own deny list is the live one and is never overwritten). Run it again after
    /// a key set change to bring a server's copy up to date.
    /// </summary>
    /// <exception cref="KeyDirectoryException">No online key, or the destination holds another root's keys or a newer key set.</exception>
    public void ExportServer(string destination)
    {
        destination = System.IO.Path.GetFullPath(destination);
        if (destination == Path)
        {
            throw new KeyDirectoryException($"--out names the key directory itself ({Path})");
        }

        using var dirLock = DirectoryLock.Acquire(Path);
        Reload();
        if (!File.Exists(OnlineKeyPath))
        {
            throw new KeyDirectoryException($"{Path} has no online key; create one with 'transit keys online init --dir {Path}'");
        }

        EnsureCanSignEverydayDocuments();

        Directory.CreateDirectory(destination);
        using var destinationLock = DirectoryLock.Acquire(destination);
        var hasDenyList = File.Exists(Combine(destination, "denylist.json"));
        if (Exists(destination))
        {
            var theirRoot = ReadFile(Combine(destination, "root.pub.json"), KeyFiles.ParsePublicKey);
            if (!theirRoot.Compressed.AsSpan().SequenceEqual(RootPublicKey.Compressed))
            {
                throw new KeyDirectoryException($"{destination} holds the keys of another root; refusing to mix them");
            }

            var theirs = ReadFile(Combine(destination, "keyset.json"), json => KeySet.Open(SignedDocument.Parse(json), theirRoot));
            if (theirs.Version > KeySet.Version)
            {
                throw new KeyDirectoryException($"{destination} holds key set version {theirs.Version}, newer than this directory's {KeySet.Version}");
            }
        }

        Copy(RootPublicKeyPath, destination, secret: false);
        Copy(KeySetPath, destination, secret: false);
        Copy(OnlineKeyPath, destination, secret: true);
        Copy(CaCertificatePath, destination, secret: false);
        Copy(CaKeyPath, destination, secret: true);
        Copy(ServerCertificatePath, destination, secret: false);
        Copy(ServerKeyPath, destination, secret: true);
        if (KeySet.CurrentIssuingKey(_time.GetUtcNow()) is { } issuing)
        {
            AtomicFile.WriteAllText(IssuerKeyPath(destination, issuing.KeyId), File.ReadAllText(IssuerKeyPath(Path, issuing.KeyId)), secret: true);
        }

        if (!hasDenyList)
        {
            Copy(DenyListPath, destination, secret: false);
            foreach (var delta in Directory.Exists(DenyListDeltaFolder) ? Directory.GetFiles(DenyListDeltaFolder, "delta-*.json") : [])
            {
                Copy(delta, Combine(destination, "denylist-deltas"), secret: false);
            }
        }
    }

    /// <summary>Marks issuer key <paramref name="keyId"/> revoked in a new key set version.</summary>
    /// <exception cref="KeyDirectoryException">No such key.</exception>
    public void Revoke(ushort keyId)
    {
        using var dirLock = DirectoryLock.Acquire(Path);
        Reload();
        if (!KeySet.TryGetKey(keyId, out _))
        {
            throw new KeyDirectoryException(
                $"no issuer key {keyId} in the key set (known: {string.Join(", ", KeySet.Keys.Select(k => k.KeyId))})");
        }

        var now = Truncate(_time.GetUtcNow());
        WriteKeySet(KeySet.With(KeySet.Keys.Select(k => k.KeyId == keyId ? k with { Status = KeyStatus.Revoked } : k), now));
    }

    /// <summary>
    /// Publishes a new deny-list version with the given changes: the full list and a delta from the previous
    /// version. Returns null, and writes nothing, when the changes change nothing.
    /// </summary>
    public DenyListDelta? UpdateDenyList(
        IEnumerable<string>? addAccounts = null,
        IEnumerable<string>? removeAccounts = null,
        IEnumerable<ulong>? addCredentials = null,
        IEnumerable<ulong>? removeCredentials = null)
    {
        using var dirLock = DirectoryLock.Acquire(Path);
        Reload();
        var previous = DenyList;
        var accounts = previous.Accounts.Except(removeAccounts ?? []).Union(addAccounts ?? []);
        var credentials = previous.Credentials.Except(removeCredentials ?? []).Union(addCredentials ?? []);
        if (accounts.SetEquals(previous.Accounts) && credentials.SetEquals(previous.Credentials))
        {
            return null;
        }

        var next = new DenyList(checked(previous.Version + 1), Truncate(_time.GetUtcNow()), accounts, credentials);
        var delta = next.DeltaFrom(previous);
        AtomicFile.WriteAllText(DeltaPath(delta.Version), Sign(DenyList.DeltaType, delta.ToPayload()).ToJson());
        AtomicFile.WriteAllText(DenyListPath, Sign(DenyList.SnapshotType, next.ToPayload()).ToJson());
        DenyList = next;
        return delta;
    }

    /// <summary>Writes the signed full deny list to <paramref name="destination"/>.</summary>
    public void ExportDenyList(string destination) => AtomicFile.WriteAllText(destination, File.ReadAllText(DenyListPath));

    private void WriteKeySet(KeySet keySet)
    {
        using var root = OpenRootKey();
        AtomicFile.WriteAllText(KeySetPath, keySet.Sign(root).ToJson());
        KeySet = keySet;
    }

    private SigningKey OpenRootKey() => HasRootKey
        ? ReadFile(RootKeyPath, json => KeyFiles.ParsePrivateKey(json, out _))
        : throw new KeyDirectoryException(
            $"{Path} has no root private key (root.key.json), as a server's key directory should not: change the key set on the offline copy, then 'transit keys export-server' it here");

    /// <summary>The online key when the directory has one (the key set must certify it, active, for the type); else the root key.</summary>
    private (SigningKey Key, ushort? OnlineKeyId) OpenSigner(string documentType)
    {
        if (!File.Exists(OnlineKeyPath))
        {
            return HasRootKey
                ? (OpenRootKey(), null)
                : throw new KeyDirectoryException($"{Path} has neither an online key (online.key.json) nor the root key to sign {documentType} documents");
        }

        ushort? keyId = null;
        var key = ReadFile(OnlineKeyPath, json => KeyFiles.ParsePrivateKey(json, out keyId));
        var certified = KeySet.ActiveOnlineKey(documentType);
        if (certified is not null && certified.KeyId == keyId && certified.PublicKey.Compressed.AsSpan().SequenceEqual(key.PublicKey.Compressed))
        {
            return (key, keyId);
        }

        key.Dispose();
        throw new KeyDirectoryException(
            $"{OnlineKeyPath}: online key {keyId?.ToString(CultureInfo.InvariantCulture) ?? "(no id)"} is not the active online key that key set version {KeySet.Version} certifies for {documentType} documents; "
            + "rotate it with 'transit keys online rotate' on the offline copy and export the server's directory again");
    }

    private void Reload()
    {
        KeySet = ReadFile(KeySetPath, json => KeySet.Open(SignedDocument.Parse(json), RootPublicKey));
        DenyList = ReadFile(DenyListPath, json => DenyList.Open(SignedDocument.Parse(json), RootPublicKey, KeySet));
    }

    private static void Copy(string file, string destination, bool secret) =>
        AtomicFile.WriteAllText(Combine(destination, System.IO.Path.GetFileName(file)), File.ReadAllText(file), secret);

    private string DeltaPath(long version) =>
        Combine(DenyListDeltaFolder, $"delta-{version.ToString("D8", CultureInfo.InvariantCulture)}.json");

    private static string IssuerKeyPath(string path, ushort keyId) =>
        Combine(path, "issuers", $"key-{keyId.ToString("D5", CultureInfo.InvariantCulture)}.json");

    private static T ReadFile<T>(string file, Func<string, T> parse)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (IOException ex)
        {
            throw new KeyDirectoryException($"{file}: {ex.Message}", ex);
        }

        try
        {
            return parse(text);
        }
        catch (TrustDocumentException ex)
        {
            throw new KeyDirectoryException($"{file}: {ex.Message}", ex);
        }
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is { } value && value < b ? value : b;

    private static DateTimeOffset Truncate(DateTimeOffset value) => DateTimeOffset.FromUnixTimeSeconds(value.ToUnixTimeSeconds());

    private static string Combine(params string[] parts) => System.IO.Path.Combine(parts);
}

/// <summary>A key directory that is missing, damaged or asked to do something impossible.</summary>
public sealed class KeyDirectoryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyDirectoryException()
    {
    }

    /// <summary>Creates the exception with a message naming the problem.</summary>
    public KeyDirectoryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public KeyDirectoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An exclusive lock on a key directory, held while it is changed.</summary>
internal sealed class DirectoryLock : IDisposable
{
    private readonly FileStream _stream;

    private DirectoryLock(FileStream stream) => _stream = stream;

    public static DirectoryLock Acquire(string directory)
    {
        var path = System.IO.Path.Combine(directory, ".lock");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return new DirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
            catch (IOException ex)
            {
                throw new KeyDirectoryException($"{directory} is locked by another process (held for over 30 s)", ex);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
