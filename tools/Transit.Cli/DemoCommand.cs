using System.CommandLine;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Cli;

/// <summary><c>transit demo</c>: the whole flow on the embedded defaults, for a newcomer.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Working directory (default: .transit/demo under the repository)" };
        var command = new Command("demo", "Run the end-to-end flow: create keys, issue a credential, show codes and verify them as a gate would") { dir };
        command.SetAction(parsed =>
        {
            var root = parsed.GetValue(dir)?.FullName ?? Path.Combine(Environment.CurrentDirectory, ".transit", "demo");
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }

            var keys = OperatorKeyDirectory.Init(Path.Combine(root, "keys"), SignatureAlgorithm.P256);
            Console.WriteLine($"1. operator keys created in {keys.Path} (root key, issuer key 1, key set v{keys.KeySet.Version}, device CA)");

            var (issuerKey, issuerPrivate) = keys.OpenIssuingKey();
            var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            using var phone = PhoneCredential.Issue(issuerPrivate, issuerKey.KeyId, "demo-rider", "adult", now.AddMinutes(-1), TimeSpan.FromHours(24));
            issuerPrivate.Dispose();
            Console.WriteLine($"2. credential {phone.Credential.CredentialIdText} issued to account demo-rider, valid 24 h");

            var code = phone.Show(now, 0).ToText();
            Console.WriteLine($"3. the phone shows a {code.Length}-character code:\n   {code}");

            var trust = TrustStore.Open(keys.RootPublicKey, keys.ReadSignedKeySet(), keys.ReadSignedDenyList());
            var verifier = new RideCodeVerifier(trust, replays: new ReplayCache());
            Console.WriteLine($"4. gate verifies it offline: {verifier.Verify(code, now).ReasonCode}");
            Console.WriteLine($"   the same code again:       {verifier.Verify(code, now).ReasonCode}");
            Console.WriteLine($"   a screenshot 2 minutes on: {verifier.Verify(phone.Show(now, 1).ToText(), now.AddMinutes(2)).ReasonCode}");

            keys.UpdateDenyList(addAccounts: ["demo-rider"]);
            trust.UpdateDenyList(keys.ReadSignedDenyList());
            Console.WriteLine($"5. account blocked (deny list v{trust.DenyList.Version}); next code: {verifier.Verify(phone.Show(now, 2).ToText(), now).ReasonCode}");
            return 0;
        });
        return command;
    }
}
