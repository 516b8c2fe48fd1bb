using System.Text.Json.Nodes;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>
/// Everything a gate under test needs on disk: an operator key directory, the device's client certificate, a
/// settings file, and riders' phone credentials to make codes with. Deleted on dispose.
/// </summary>
public sealed class GateEnvironment : IDisposable
{
    public const string DeviceId = "gate-0001";

    private readonly List<PhoneCredential> _phones = [];

    public GateEnvironment()
    {
        Directory = Path.Combine(Path.GetTempPath(), "transit-gate-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Keys = OperatorKeyDirectory.Init(Path.Combine(Directory, "keys"), SignatureAlgorithm.P256);
        using var ca = Keys.OpenDeviceAuthority();
        using var device = ca.IssueDeviceCertificate(DeviceId, "metro", DateTimeOffset.UtcNow);
        DeviceCertificateAuthority.SaveWithKey(device, ClientCertificate, ClientKey);
    }

    public string Directory { get; }

    public OperatorKeyDirectory Keys { get; }

    public string ClientCertificate => Path.Combine(Directory, "device.crt.pem");

    public string ClientKey => Path.Combine(Directory, "device.key.pem");

    public string JournalPath => Path.Combine(Directory, "data", "journal.db");

    public string ConfigPath => Path.Combine(Directory, "gate.json");

    /// <summary>Issues a credential for <paramref name="account"/> under the current issuing key.</summary>
    public PhoneCredential Rider(string account, DateTimeOffset? notBefore = null, TimeSpan? validity = null)
    {
        var (key, privateKey) = Keys.OpenIssuingKey();
        using (privateKey)
        {
            return Track(PhoneCredential.Issue(
                privateKey, key.KeyId, account, "1", notBefore ?? Now().AddHours(-1), validity ?? TimeSpan.FromHours(24)));
        }
    }

    /// <summary>Issues a credential signed by <paramref name="issuer"/> under key id <paramref name="keyId"/>.</summary>
    public PhoneCredential RiderSignedBy(SigningKey issuer, ushort keyId, string account) =>
        Track(PhoneCredential.Issue(issuer, keyId, account, "1", Now().AddHours(-1), TimeSpan.FromHours(24)));

    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>Writes the gate's settings; <paramref name="change"/> adjusts the JSON before it is saved.</summary>
    public string WriteConfig(TestClearingServer? server = null, Action<JsonObject>? change = null)
    {
        var config = new JsonObject
        {
            ["Device"] = new JsonObject { ["Id"] = DeviceId, ["OperatorId"] = "metro", ["Mode"] = "metro-entry", ["StationId"] = "S01" },
            ["Verification"] = new JsonObject { ["MaxAgeSeconds"] = 60, ["MaxAheadSeconds"] = 30, ["PassbackSeconds"] = 120 },
            ["Trust"] = new JsonObject
            {
                ["RootPublicKey"] = Install(Keys.RootPublicKeyPath),
                ["KeySet"] = Install(Keys.KeySetPath),
                ["DenyList"] = Install(Keys.DenyListPath),
            },
            ["Journal"] = new JsonObject { ["Path"] = "data/journal.db" },
            ["Scanner"] = new JsonObject { ["Tcp"] = new JsonObject { ["Port"] = 0 } },
            ["Status"] = new JsonObject { ["Port"] = 0 },
            ["Hardware"] = new JsonObject { ["Kind"] = "simulated", ["BarrierOpenMillis"] = 300, ["RefusalShowMillis"] = 200 },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Information" } },
        };
        if (server is not null)
        {
            config["Clearing"] = new JsonObject
            {
                ["Url"] = server.Url,
                ["ClientCertificate"] = ClientCertificate,
                ["ClientKey"] = ClientKey,
                ["ServerCaCertificate"] = Keys.CaCertificatePath,
                ["UploadDelayMillis"] = 50,
                ["SyncIntervalSeconds"] = 3600,
                ["StatusIntervalSeconds"] = 3600,
                ["BackoffInitialMillis"] = 100,
                ["BackoffMaxMillis"] = 1000,
                ["RequestTimeoutSeconds"] = 10,
            };
        }

        change?.Invoke(config);
        File.WriteAllText(ConfigPath, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return ConfigPath;
    }

    /// <summary>Signs a device configuration as clearing does: with the online key the key set certifies.</summary>
    public string SignConfig(JsonObject payload) =>
        Keys.Sign(OnlineKey.DeviceConfigType, System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString())).ToJson();

    public void Dispose()
    {
        foreach (var phone in _phones)
        {
            phone.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the temporary folder is cleaned by the system.
        }
    }

    /// <summary>Copies a trust file to the gate's own folder, as provisioning does: later key changes reach it only by sync.</summary>
    private string Install(string file)
    {
        var target = Path.Combine(Directory, "trust", Path.GetFileName(file));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(file, target, overwrite: true);
        return target;
    }

    private PhoneCredential Track(PhoneCredential phone)
    {
        _phones.Add(phone);
        return phone;
    }
}

/// <summary>
/// Makes fresh, distinct codes fast for load tests: round-robin over a few riders, with a per-rider counter so that
/// no two codes share (credential, second, counter).
/// </summary>
public sealed class CodeStream(IReadOnlyList<PhoneCredential> riders)
{
    private readonly Dictionary<int, (long Second, int Counter)> _used = [];
    private int _next;

    public string Next()
    {
        for (var attempt = 0; ; attempt++)
        {
            var index = _next++ % riders.Count;
            var now = DateTimeOffset.UtcNow;
            var second = now.ToUnixTimeSeconds();
            var (lastSecond, counter) = _used.GetValueOrDefault(index, (-1, -1));
            counter = lastSecond == second ? counter + 1 : 0;
            if (counter <= byte.MaxValue)
            {
                _used[index] = (second, counter);
                return riders[index].Show(DateTimeOffset.FromUnixTimeSeconds(second), (byte)counter).ToText();
            }

            if (attempt > riders.Count)
            {
                Thread.Sleep(5);
                attempt = 0;
            }
        }
    }
}
