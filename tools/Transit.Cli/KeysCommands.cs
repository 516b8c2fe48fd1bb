using System.CommandLine;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Cli;

/// <summary><c>transit keys</c>: the operator's root key, issuer keys and signed key set.</summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Create and manage the operator's root key, issuer keys, key set and device CA");
        keys.Subcommands.Add(Init());
        keys.Subcommands.Add(Rotate());
        keys.Subcommands.Add(Revoke());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Online());
        keys.Subcommands.Add(ExportServer());
        keys.Subcommands.Add(ServerCertificate());
        return keys;
    }

    private static Command Init()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Directory to create the keys in (must not hold keys yet)");
        var alg = CliParsing.AlgorithmOption();
        var issuer = new Option<string?>("--issuer")
        {
            Description = "Issuer id (1-8 of a-z, 0-9, '-'): the key set declares it and its codes (TR2) carry it; omit for the operator's own issuer (TR1 codes)",
        };
        var command = new Command("init", "Create a root key, the first issuer key, the online key, a signed keyset.json, an empty signed deny list and the device CA") { dir, alg, issuer };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Init(parsed.GetValue(dir)!.FullName, parsed.GetValue(alg), issuerId: parsed.GetValue(issuer));
            Console.WriteLine($"created key directory {directory.Path} for issuer {directory.KeySet.IssuerId}");
            Console.WriteLine($"  root key        {directory.RootKeyPath} ({directory.RootPublicKey.Algorithm.ToName()}; keep offline)");
            Console.WriteLine($"  root public key {directory.RootPublicKeyPath} (install on every gate)");
            Console.WriteLine($"  online key      {directory.OnlineKeyPath} (signs deny lists and device configurations on the server)");
            Console.WriteLine($"  key set         {directory.KeySetPath} (version {directory.KeySet.Version}, issuer key 1 and online key 1 active)");
            Console.WriteLine($"  deny list       {directory.DenyListPath} (version {directory.DenyList.Version}, empty)");
            Console.WriteLine($"  device CA       {directory.CaCertificatePath}");
            Console.WriteLine($"  clearing TLS    {directory.ServerCertificatePath} (localhost, 127.0.0.1)");
            return 0;
        });
        return command;
    }

    private static Command Rotate()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory");
        var alg = CliParsing.AlgorithmOption();
        var overlap = new Option<double>("--overlap-hours")
        {
            Description = "How long the previously active keys keep verifying",
            DefaultValueFactory = _ => OperatorKeyDirectory.DefaultRotationOverlap.TotalHours,
        };
        var command = new Command("rotate", "Add a new active issuer key; the previous ones are retired and keep verifying for the overlap") { dir, alg, overlap };
        command.SetAction(parsed =>
        {
            var hours = parsed.GetValue(overlap);
            if (hours < 0)
            {
                throw new CliException($"--overlap-hours must not be negative (got {hours})");
            }

            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            var key = directory.Rotate(parsed.GetValue(alg), TimeSpan.FromHours(hours));
            Console.WriteLine($"issuer key {key.KeyId} ({key.Algorithm.ToName()}) is active; key set version {directory.KeySet.Version}");
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory");
        var kid = new Option<ushort>("--kid") { Description = "Id of the issuer key to revoke", Required = true };
        var command = new Command("revoke", "Re-sign the key set with an issuer key revoked: every code under it is refused") { dir, kid };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            directory.Revoke(parsed.GetValue(kid));
            Console.WriteLine($"issuer key {parsed.GetValue(kid)} revoked; key set version {directory.KeySet.Version}");
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory");
        var command = new Command("list", "Show the key set: each issuer key with its status and validity") { dir };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            Console.WriteLine($"key set version {directory.KeySet.Version}, signed {directory.KeySet.IssuedAt:O}; deny list version {directory.DenyList.Version} ({directory.DenyList.Count} entries)");
            foreach (var key in directory.KeySet.Keys)
            {
                Console.WriteLine($"  kid {key.KeyId,5}  {key.Algorithm.ToName(),-4}  {key.Status.ToString().ToLowerInvariant(),-8}  from {key.ValidFrom:O}  until {(key.ValidUntil is { } until ? until.ToString("O") : "-")}");
            }

            foreach (var key in directory.KeySet.OnlineKeys)
            {
                Console.WriteLine($"  online {key.KeyId,2}  {key.Algorithm.ToName(),-4}  {key.Status.ToString().ToLowerInvariant(),-8}  signs {string.Join(", ", key.Documents)}");
            }

            Console.WriteLine(directory.HasRootKey ? "  root private key present (the offline copy)" : "  no root private key (a server's copy)");
            return 0;
        });
        return command;
    }

    private static Command Online()
    {
        var online = new Command("online", "The online key: signs deny lists and device configurations on the server, so that the root key stays offline");
        online.Subcommands.Add(OnlineKeyCommand("init", "Create the online key in a key directory that has none (made before online keys) and certify it in the key set", first: true));
        online.Subcommands.Add(OnlineKeyCommand("rotate", "Replace the online key: a new one is certified, the previous one retired (or revoked with --revoke-previous)", first: false));
        return online;
    }

    private static Command OnlineKeyCommand(string name, string description, bool first)
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory holding the root key");
        var alg = CliParsing.AlgorithmOption();
        var revoke = new Option<bool>("--revoke-previous") { Description = "Revoke the previous online key instead of retiring it (the server was compromised): gates refuse what it signed" };
        var command = new Command(name, description) { dir, alg };
        if (!first)
        {
            command.Options.Add(revoke);
        }

        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            var active = directory.KeySet.OnlineKeys.Where(k => k.Status == KeyStatus.Active).ToList();
            if (first && active.Count > 0)
            {
                throw new CliException($"{directory.Path} already has online key {active[^1].KeyId}; replace it with 'transit keys online rotate --dir {directory.Path}'");
            }

            var key = directory.RotateOnlineKey(parsed.GetValue(alg), revokePrevious: !first && parsed.GetValue(revoke));
            Console.WriteLine($"online key {key.KeyId} ({key.Algorithm.ToName()}) certified for {string.Join(", ", key.Documents)}; key set version {directory.KeySet.Version}");
            Console.WriteLine($"  private key {directory.OnlineKeyPath}: bring it to the server with 'transit keys export-server --dir {directory.Path} --out SERVER_DIR'");
            return 0;
        });
        return command;
    }

    private static Command ServerCertificate()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory holding the device CA (the offline one, or the server's)");
        var host = new Option<string[]>("--host") { Description = "A name (or IP address) gates reach the clearing server by; repeat for several", Required = true, AllowMultipleArgumentsPerToken = false };
        var command = new Command("server-cert", "Issue the clearing server's TLS certificate for its real host names, from the device CA") { dir, host };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            var names = directory.IssueServerCertificate(parsed.GetValue(host)!);
            Console.WriteLine($"clearing TLS certificate {directory.ServerCertificatePath} for {string.Join(", ", names)}");
            Console.WriteLine($"  key {directory.ServerKeyPath}; restart 'transit clearing serve' to use it (run 'transit keys export-server' again if the server has its own copy)");
            return 0;
        });
        return command;
    }

    private static Command ExportServer()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory holding the root key");
        var output = CliParsing.DirectoryOption("--out", "The clearing server's key directory (created, or brought up to date)");
        var command = new Command("export-server", "Write the clearing server's key directory: everything it needs but the root private key") { dir, output };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            var destination = parsed.GetValue(output)!.FullName;
            directory.ExportServer(destination);
            Console.WriteLine($"server key directory {destination}: key set version {directory.KeySet.Version}, online key, device CA, TLS certificate; no root private key");
            Console.WriteLine($"  serve it with 'transit clearing serve --keys {destination}'; keep {directory.RootKeyPath} offline");
            return 0;
        });
        return command;
    }
}

/// <summary><c>transit deny</c>: the signed deny list and its deltas.</summary>
internal static class DenyCommands
{
    public static Command Create()
    {
        var deny = new Command("deny", "Block or unblock accounts and credentials: each change is a new signed deny-list version");
        deny.Subcommands.Add(Change("add", "Deny accounts or credentials (new version, with a delta)", add: true));
        deny.Subcommands.Add(Change("remove", "Take accounts or credentials off the deny list (new version, with a delta)", add: false));
        deny.Subcommands.Add(Export());
        return deny;
    }

    private static Command Change(string name, string description, bool add)
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory");
        var account = new Option<string[]>("--account") { Description = "Account token (repeatable)", AllowMultipleArgumentsPerToken = false };
        var credential = new Option<string[]>("--credential") { Description = "Credential id, 16 hex digits (repeatable)" };
        var command = new Command(name, description) { dir, account, credential };
        command.SetAction(parsed =>
        {
            var accounts = parsed.GetValue(account) ?? [];
            var credentials = (parsed.GetValue(credential) ?? []).Select(text =>
                Credential.TryParseCredentialId(text, out var id) ? id : throw new CliException($"--credential: '{text}' is not 16 hex digits")).ToList();
            if (accounts.Length == 0 && credentials.Count == 0)
            {
                throw new CliException("give at least one --account or --credential");
            }

            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            var alreadyDenied = add ? accounts.Where(directory.DenyList.Accounts.Contains).Distinct().ToList() : [];
            if (alreadyDenied.Count > 0)
            {
                // Clearing may have put them there for unpaid charges and takes them off again once paid; only its
                // API records an operator's own reason, which survives the debt.
                Console.Error.WriteLine(
                    $"already on the deny list: {string.Join(", ", alreadyDenied)}. If clearing blocked them for unpaid charges, they come "
                    + "off when the debt is paid; to keep them denied regardless, deny them through clearing: POST /api/accounts/ACCOUNT/deny");
            }

            var delta = add
                ? directory.UpdateDenyList(addAccounts: accounts, addCredentials: credentials)
                : directory.UpdateDenyList(removeAccounts: accounts, removeCredentials: credentials);
            Console.WriteLine(delta is null
                ? $"nothing changed; deny list stays at version {directory.DenyList.Version}"
                : $"deny list version {delta.Version} ({directory.DenyList.Count} entries); delta {delta.BaseVersion}→{delta.Version} written to {directory.DenyListDeltaFolder}");
            return 0;
        });
        return command;
    }

    private static Command Export()
    {
        var dir = CliParsing.DirectoryOption("--dir", "Key directory");
        var output = new Option<FileInfo>("--out") { Description = "File to write the signed full deny list to", Required = true };
        var command = new Command("export", "Write the signed full deny list") { dir, output };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(dir)!.FullName);
            directory.ExportDenyList(parsed.GetValue(output)!.FullName);
            Console.WriteLine($"deny list version {directory.DenyList.Version} ({directory.DenyList.Count} entries) written to {parsed.GetValue(output)!.FullName}");
            return 0;
        });
        return command;
    }
}
