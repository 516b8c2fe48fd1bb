using System.CommandLine;
using System.Text.Json;
using QRCoder;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Cli;

/// <summary><c>transit codes</c>: issue credentials, show codes as a phone would, verify codes as a gate would.</summary>
internal static class CodesCommands
{
    public static Command Create()
    {
        var codes = new Command("codes", "Issue credentials, show ride codes and verify them offline");
        codes.Subcommands.Add(IssueCredential());
        codes.Subcommands.Add(Show());
        codes.Subcommands.Add(Verify());
        return codes;
    }

    private static Command IssueCredential()
    {
        var keys = CliParsing.DirectoryOption("--keys", "Key directory (the newest active issuer key signs)");
        var account = new Option<string>("--account") { Description = "Account token (printable ASCII, up to 16 characters)", Required = true };
        var category = new Option<string>("--category") { Description = "Rider category id (GTFS rider_category_id); empty for the default", DefaultValueFactory = _ => "" };
        var hours = new Option<double>("--valid-hours") { Description = "Validity in hours (at most 168: verifiers refuse credentials valid longer than 7 days)", DefaultValueFactory = _ => 24 };
        var notBefore = CliParsing.InstantOption("--not-before", "Start of validity (default: now)");
        var output = new Option<FileInfo>("--out") { Description = "Credential file to write (holds the phone's private key)", Required = true };
        var command = new Command("credential", "Issue a credential for a new phone key, as the ride-code platform does") { keys, account, category, hours, notBefore, output };
        command.SetAction(parsed =>
        {
            var directory = OperatorKeyDirectory.Open(parsed.GetValue(keys)!.FullName);
            var (issuerKey, privateKey) = directory.OpenIssuingKey();
            using var issuer = privateKey;
            var start = parsed.GetValue(notBefore) ?? DateTimeOffset.UtcNow;
            start = DateTimeOffset.FromUnixTimeSeconds(start.ToUnixTimeSeconds());
            var validity = TimeSpan.FromMinutes(Math.Round(parsed.GetValue(hours) * 60));
            var cap = VerifierOptions.DefaultMaxCredentialValidity;
            if (validity > cap)
            {
                throw new CliException(
                    $"--valid-hours {parsed.GetValue(hours)}: verifiers refuse credentials valid longer than {cap.TotalHours:0} hours " +
                    "(credential-validity-too-long), so that a leaked phone key is bounded in time");
            }

            PhoneCredential phone;
            try
            {
                phone = PhoneCredential.Issue(
                    issuer, issuerKey.KeyId, parsed.GetValue(account)!, parsed.GetValue(category) ?? "", start, validity, directory.KeySet.Issuer);
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }

            using (phone)
            {
                AtomicFile.WriteAllText(parsed.GetValue(output)!.FullName, phone.ToJson(), secret: true);
                var c = phone.Credential;
                Console.WriteLine($"credential {c.CredentialIdText} for account {c.Account} (category '{c.Category}'), issuer {directory.KeySet.IssuerId} key {c.KeyId}, valid {c.NotBefore:O} to {c.NotAfter:O}");
            }

            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var credentialFile = new Option<FileInfo>("--credential") { Description = "Credential file from 'transit codes credential'", Required = true };
        var at = CliParsing.InstantOption("--at", "The code's timestamp (default: now)");
        var counter = new Option<byte?>("--counter") { Description = "Counter 0-255 (default: from the sub-second part of the time)" };
        var png = new Option<FileInfo?>("--png") { Description = "Also write the code as a QR code PNG" };
        var command = new Command("show", "Sign and print one ride code, as the phone shows it (one line of text)") { credentialFile, at, counter, png };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(credentialFile)!.FullName;
            using var phone = PhoneCredential.Parse(CliParsing.ReadInputFile(path, "credential file"));
            var time = parsed.GetValue(at) ?? DateTimeOffset.UtcNow;
            var count = parsed.GetValue(counter) ?? (byte)(time.Millisecond * 256 / 1000);
            var credential = phone.Credential;
            if (time < credential.NotBefore)
            {
                throw new CliException(
                    $"--at {Utc(time)} is before the credential's start ({Utc(credential.NotBefore)}): it shows codes from then until {Utc(credential.NotAfter)}");
            }

            RideCode code;
            try
            {
                code = phone.Show(time, count);
            }
            catch (ArgumentException ex)
            {
                throw CliException.From(ex);
            }

            if (time >= credential.NotAfter)
            {
                Console.Error.WriteLine($"transit: warning: the credential expired at {Utc(credential.NotAfter)}; gates refuse this code as expired");
            }

            var text = code.ToText();
            if (parsed.GetValue(png) is { } pngFile)
            {
                using var generator = new QRCodeGenerator();
                using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
                File.WriteAllBytes(pngFile.FullName, new PngByteQRCode(data).GetGraphic(6));
            }

            Console.WriteLine(text);
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var keySetFiles = new Option<FileInfo[]>("--keyset")
        {
            Description = "Signed key set (keyset.json) of an accepted issuer; repeat for several issuers (the one naming no issuer takes TR1 codes)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var roots = new Option<FileInfo[]>("--root") { Description = "Root public key of the key set at the same position (default: root.pub.json beside each key set)" };
        var denyListFiles = new Option<FileInfo[]>("--denylist") { Description = "Signed full deny list of the key set at the same position" };
        var at = CliParsing.InstantOption("--at", "The verifier's clock (default: now)");
        var maxAge = new Option<double>("--max-age") { Description = "Seconds after which a code is stale", DefaultValueFactory = _ => 60 };
        var ahead = new Option<double>("--max-ahead") { Description = "Seconds a code may be ahead of the clock", DefaultValueFactory = _ => 30 };
        var code = new Argument<string>("CODE") { Description = "A ride code, or - to read one code per line from standard input (replays across lines are caught)" };
        var command = new Command("verify", "Verify ride codes offline and print one JSON object per code") { keySetFiles, roots, denyListFiles, at, maxAge, ahead, code };
        command.SetAction(async (parsed, cancellation) =>
        {
            var trust = OpenIssuers(parsed.GetValue(keySetFiles)!, parsed.GetValue(roots) ?? [], parsed.GetValue(denyListFiles) ?? []);
            VerifierOptions options;
            try
            {
                options = new VerifierOptions { MaxAge = TimeSpan.FromSeconds(parsed.GetValue(maxAge)), MaxClockAhead = TimeSpan.FromSeconds(parsed.GetValue(ahead)) };
                options.Validate();
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new CliException(ex.Message);
            }

            var verifier = new RideCodeVerifier(trust, options, CliParsing.Clock(parsed.GetValue(at)), new ReplayCache());
            var allAccepted = true;
            var output = Console.Out;
            var input = parsed.GetValue(code)!;
            IEnumerable<string> lines = input == "-" ? ReadLines(Console.In, cancellation) : [input];
            foreach (var line in lines)
            {
                var result = verifier.Verify(line);
                allAccepted &= result.Accepted;
                await output.WriteLineAsync(ToJson(result));
            }

            return allAccepted ? 0 : 1;
        });
        return command;
    }

    /// <summary>Each <c>--keyset</c> with the <c>--root</c> and <c>--denylist</c> at its position, as one issuer's chain.</summary>
    private static IssuerTrust OpenIssuers(FileInfo[] keySets, FileInfo[] roots, FileInfo[] denyLists)
    {
        if (roots.Length > keySets.Length || denyLists.Length > keySets.Length)
        {
            throw new CliException(
                $"{keySets.Length} --keyset but {roots.Length} --root and {denyLists.Length} --denylist: each --root and --denylist belongs to the --keyset at its position");
        }

        var stores = keySets.Select((keySet, i) =>
        {
            var keySetPath = keySet.FullName;
            var rootPath = i < roots.Length ? roots[i].FullName : Path.Combine(Path.GetDirectoryName(keySetPath)!, "root.pub.json");
            var rootKey = Named(rootPath, () => KeyFiles.ParsePublicKey(CliParsing.ReadInputFile(rootPath, "root public key")));
            return Named(keySetPath, () => TrustStore.Open(
                rootKey,
                SignedDocument.Parse(CliParsing.ReadInputFile(keySetPath, "key set")),
                i < denyLists.Length ? SignedDocument.Parse(CliParsing.ReadInputFile(denyLists[i].FullName, "deny list")) : null));
        }).ToList();
        try
        {
            return new IssuerTrust(stores);
        }
        catch (ArgumentException ex)
        {
            throw CliException.From(ex, "--keyset");
        }
    }

    private static IEnumerable<string> ReadLines(TextReader reader, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested && reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }

    private static T Named<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (TrustDocumentException ex)
        {
            throw new CliException($"{path}: {ex.Message}");
        }
    }

    private static string ToJson(VerificationResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteBoolean("accepted", result.Accepted);
            json.WriteString("reason", result.ReasonCode);
            if (result.Issuer is { } issuer)
            {
                json.WriteString("issuer", issuer);
            }

            if (result.Code is { } parsed)
            {
                var credential = parsed.Credential;
                json.WriteString("account", credential.Account);
                json.WriteString("category", credential.Category);
                json.WriteString("credentialId", credential.CredentialIdText);
                json.WriteNumber("kid", credential.KeyId);
                json.WriteString("codeTime", parsed.Timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteNumber("counter", parsed.Counter);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
}
