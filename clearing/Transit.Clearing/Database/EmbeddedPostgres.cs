using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Transit.RideCodes.KeyStore;

namespace Transit.Clearing.Database;

/// <summary>Settings of a private PostgreSQL cluster.</summary>
public sealed record EmbeddedPostgresOptions
{
    /// <summary>
    /// fsync and synchronous commit on (the default). Test clusters turn it off: they are thrown away, and a test
    /// that needs durability kills a clearing process, not the database.
    /// </summary>
    public bool Durable { get; init; } = true;

    /// <summary>Extra <c>-c name=value</c> server settings.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A private PostgreSQL cluster run with the machine's own <c>initdb</c> and <c>pg_ctl</c>: data under a folder,
/// a free loopback port, no Unix socket. Several processes share one folder: the first starts the server and owns
/// it (stops it when disposed); the others attach to the running server through <c>postmaster.pid</c>. An owner
/// that died (SIGKILL) is replaced by the next process that attaches. PostgreSQL refuses to run as root, so under
/// root every server program runs as the <c>postgres</c> system user, which then owns the folder.
/// Every connection needs the superuser's generated password (SCRAM-SHA-256), kept in <c>password</c> beside the
/// data with mode 0600 and owned by the user running clearing, so other local users, to whom the loopback port is
/// open, cannot get in; a cluster from before passwords is converted at its next start.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    /// <summary>The superuser and database the embedded cluster is created with.</summary>
    public const string UserName = "transit";

    private const string DatabaseName = "transit";
    private readonly string _binDirectory;
    private readonly string _password;
    private bool _owner;

    private EmbeddedPostgres(string root, string binDirectory, int port, bool owner, string password)
    {
        Root = root;
        _binDirectory = binDirectory;
        Port = port;
        _owner = owner;
        _password = password;
    }

    /// <summary>The folder holding the cluster (<c>data/</c>), its log and its owner file.</summary>
    public string Root { get; }

    /// <summary>The cluster's data directory.</summary>
    public string DataDirectory => Path.Combine(Root, "data");

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The superuser's password (mode 0600, readable by the user running clearing only).</summary>
    public string PasswordFile => PasswordPath(Root);

    /// <summary>True when this process started (or adopted) the server and stops it on dispose.</summary>
    public bool IsOwner => _owner;

    /// <summary>Connection string of the <c>transit</c> database.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = UserName,
        Password = _password,
        Database = DatabaseName,
        Pooling = true,
        MaxPoolSize = 50,
    }.ConnectionString;

    private static bool RunningAsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    /// <summary>The default folder: <c>.transit/pg</c> under the repository (or the current directory).</summary>
    public static string DefaultRoot(string? dataFolder = null) =>
        Path.Combine(dataFolder ?? ProjectPaths.DataFolder(), "pg");

    /// <summary>Starts the cluster in <paramref name="root"/> (creating it first), or attaches to it when running.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The server is returned to the caller, or disposed when preparing it fails.")]
    public static async Task<EmbeddedPostgres> StartAsync(string root, EmbeddedPostgresOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new EmbeddedPostgresOptions();
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        var bin = FindBinaries();
        using var folderLock = await FolderLock.AcquireAsync(Path.Combine(root, ".lock"), cancellation);
        var password = await ReadOrCreatePasswordAsync(root, cancellation);
        var postgres = await AttachAsync(root, bin, password, cancellation);
        if (postgres is null)
        {
            var data = Path.Combine(root, "data");
            if (!File.Exists(Path.Combine(data, "PG_VERSION")))
            {
                await InitAsync(root, bin, options, cancellation);
            }

            postgres = await ServeAsync(root, bin, options, password, cancellation);
        }

        try
        {
            await postgres.RequirePasswordAsync(cancellation);
            await postgres.EnsureDatabaseAsync(cancellation);
            return postgres;
        }
        catch
        {
            // A server this call started must not outlive its failure.
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server when this process owns it.</summary>
    public async Task StopAsync()
    {
        if (!_owner)
        {
            return;
        }

        _owner = false;
        NpgsqlConnection.ClearAllPools();
        await RunAsync(_binDirectory, "pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], Root, CancellationToken.None, check: false);
        File.Delete(OwnerFile(Root));
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private static string OwnerFile(string root) => Path.Combine(root, "owner.pid");

    private static string PasswordPath(string root) => Path.Combine(root, "password");

    private static string HbaPath(string root) => Path.Combine(root, "data", "pg_hba.conf");

    /// <summary>
    /// The superuser's password, generated on first use. The file is created with mode 0600 by this process: under root
    /// it stays root's, so neither other users nor the <c>postgres</c> system user read it (that user owns the data
    /// anyway); initdb gets its own copy for the moment it runs.
    /// </summary>
    private static async Task<string> ReadOrCreatePasswordAsync(string root, CancellationToken cancellation)
    {
        var file = PasswordPath(root);
        if (File.Exists(file))
        {
            var stored = (await File.ReadAllTextAsync(file, cancellation)).Trim();
            if (stored.Length > 0)
            {
                return stored;
            }
        }

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        AtomicFile.WriteAllText(file, password + "\n", secret: true);
        return password;
    }

    /// <summary>
    /// A cluster made before passwords trusts every local connection: give the superuser the password, then make the
    /// server ask for it. Done over the trusted connection, so it is safe to repeat after a crash halfway.
    /// </summary>
    private async Task RequirePasswordAsync(CancellationToken cancellation)
    {
        var hba = await File.ReadAllLinesAsync(HbaPath(Root), cancellation);
        if (!hba.Any(line => !line.TrimStart().StartsWith('#') && line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } fields && fields[^1] == "trust"))
        {
            return;
        }

        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Password = null }.ConnectionString))
        {
            await connection.OpenAsync(cancellation);

            // ALTER ROLE takes no parameters; the password is hex digits, so quoting it is safe.
            await using var alter = new NpgsqlCommand($"SET password_encryption = 'scram-sha-256'; ALTER ROLE {UserName} PASSWORD '{_password}'", connection);
            await alter.ExecuteNonQueryAsync(cancellation);
            await File.WriteAllTextAsync(HbaPath(Root), """
                # Written by Transit: every connection gives the password kept in ../password (SCRAM-SHA-256).
                local   all   all                 scram-sha-256
                host    all   all   127.0.0.1/32  scram-sha-256
                host    all   all   ::1/128       scram-sha-256

                """, cancellation);
            if (RunningAsRoot)
            {
                await RunAsync(_binDirectory, "chown", ["postgres:postgres", HbaPath(Root)], Root, cancellation, system: true);
            }

            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(cancellation);
        }

        NpgsqlConnection.ClearAllPools();
    }

    private static async Task<EmbeddedPostgres?> AttachAsync(string root, string bin, string password, CancellationToken cancellation)
    {
        var pidFile = Path.Combine(root, "data", "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return null;
        }

        var status = await RunAsync(bin, "pg_ctl", ["status", "-D", Path.Combine(root, "data")], root, cancellation, check: false);
        if (status.ExitCode != 0)
        {
            return null;
        }

        // postmaster.pid: line 4 is the port (documented layout of the file since PostgreSQL 9.1).
        var lines = await File.ReadAllLinesAsync(pidFile, cancellation);
        if (lines.Length < 4 || !int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException($"{pidFile} does not name a port; is another program using {root}?");
        }

        var adopt = !OwnerAlive(root);
        if (adopt)
        {
            await File.WriteAllTextAsync(OwnerFile(root), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellation);
        }

        return new EmbeddedPostgres(root, bin, port, adopt, password);
    }

    private static bool OwnerAlive(string root)
    {
        try
        {
            var text = File.ReadAllText(OwnerFile(root)).Trim();
            if (!int.TryParse(text, CultureInfo.InvariantCulture, out var pid))
            {
                return false;
            }

            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task InitAsync(string root, string bin, EmbeddedPostgresOptions options, CancellationToken cancellation)
    {
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        if (RunningAsRoot)
        {
            await RunAsync(bin, "chown", ["-R", "postgres:postgres", root], root, cancellation, system: true);

            // The password stays this process's own: the postgres user owns the data and needs no password.
            await RunAsync(bin, "chown", ["root:root", PasswordPath(root)], root, cancellation, system: true);
            var access = await RunAsync(bin, "test", ["-w", data], root, cancellation, check: false, system: true, asPostgres: true);
            if (access.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"the postgres system user cannot write {data}: a parent folder is closed to it; choose a data folder it can reach (e.g. under /tmp or /var/lib)");
            }
        }

        // initdb reads the password from a file; under root it runs as postgres, which cannot read ours.
        var passwordFile = PasswordPath(root);
        if (RunningAsRoot)
        {
            passwordFile = Path.Combine(root, ".initdb-password");
            AtomicFile.WriteAllText(passwordFile, await File.ReadAllTextAsync(PasswordPath(root), cancellation), secret: true);
            await RunAsync(bin, "chown", ["postgres:postgres", passwordFile], root, cancellation, system: true);
        }

        List<string> args = ["-D", data, "-U", UserName, "--auth=scram-sha-256", "--pwfile=" + passwordFile, "--encoding=UTF8", "--locale=C"];
        if (!options.Durable)
        {
            args.Add("--no-sync");
        }

        try
        {
            await RunAsync(bin, "initdb", args, root, cancellation);
        }
        finally
        {
            if (RunningAsRoot)
            {
                File.Delete(passwordFile);
            }
        }
    }

    private static async Task<EmbeddedPostgres> ServeAsync(string root, string bin, EmbeddedPostgresOptions options, string password, CancellationToken cancellation)
    {
        var settings = new Dictionary<string, string>
        {
            ["listen_addresses"] = "127.0.0.1",
            ["unix_socket_directories"] = "''",
            ["max_connections"] = "200",
            ["shared_buffers"] = "256MB",
            ["max_wal_size"] = "4GB",
        };
        if (!options.Durable)
        {
            settings["fsync"] = "off";
            settings["synchronous_commit"] = "off";
            settings["full_page_writes"] = "off";
        }

        foreach (var (name, value) in options.Settings)
        {
            settings[name] = value;
        }

        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var serverArgs = string.Join(' ', settings.Select(s => $"-c {s.Key}={s.Value}").Prepend($"-p {port.ToString(CultureInfo.InvariantCulture)}"));
            var result = await RunAsync(
                bin, "pg_ctl", ["start", "-D", Path.Combine(root, "data"), "-w", "-t", "60", "-l", Path.Combine(root, "postgres.log"), "-o", serverArgs],
                root, cancellation, check: false);
            if (result.ExitCode == 0)
            {
                await File.WriteAllTextAsync(OwnerFile(root), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellation);
                return new EmbeddedPostgres(root, bin, port, owner: true, password);
            }

            // Another program may have taken the port between probing and binding it: try another one.
            if (attempt == 3)
            {
                var log = File.Exists(Path.Combine(root, "postgres.log")) ? (await File.ReadAllLinesAsync(Path.Combine(root, "postgres.log"), cancellation)).TakeLast(10) : [];
                throw new InvalidOperationException($"pg_ctl start failed ({result.ExitCode}): {result.Error}\n{string.Join('\n', log)}");
            }
        }
    }

    /// <summary>
    /// Creates another database in the cluster and returns its connection string: a test or a simulation keeps its data
    /// apart from the <c>transit</c> database this way.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellation = default)
    {
        if (string.IsNullOrEmpty(name) || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') || char.IsAsciiDigit(name[0]))
        {
            throw new ArgumentException($"database name '{name}': lower-case letters, digits and '_', not starting with a digit", nameof(name));
        }

        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellation);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellation);
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    private string AdminConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;

    private async Task EnsureDatabaseAsync(CancellationToken cancellation)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellation);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = DatabaseName } } };
        if (await exists.ExecuteScalarAsync(cancellation) is null)
        {
            try
            {
                await CreateDatabaseAsync(DatabaseName, cancellation);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // A second process attached at the same moment and created it first.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("TRANSIT_PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var versions = Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")) && File.Exists(Path.Combine(d, "bin", "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : 0);
            if (versions.FirstOrDefault() is { } newest)
            {
                return Path.Combine(newest, "bin");
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("PostgreSQL server programs (initdb, pg_ctl) were not found: install PostgreSQL or set TRANSIT_PG_BIN, or pass --db CONN");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string bin, string program, IReadOnlyList<string> args, string workingDirectory, CancellationToken cancellation,
        bool check = true, bool system = false, bool asPostgres = false)
    {
        var path = system ? program : Path.Combine(bin, program);
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if ((!system || asPostgres) && RunningAsRoot)
        {
            start.FileName = "runuser";
            foreach (var arg in (string[])["-u", "postgres", "--", path])
            {
                start.ArgumentList.Add(arg);
            }
        }
        else
        {
            start.FileName = path;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {path}");
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var error = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        var result = (process.ExitCode, await output, await error);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Item3.Trim()}");
        }

        return result;
    }

    /// <summary>An exclusive lock file, so that two processes do not create or start the same cluster at once.</summary>
    private sealed class FolderLock(FileStream stream) : IDisposable
    {
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The lock owns the file it holds open and closes it when disposed.")]
        public static async Task<FolderLock> AcquireAsync(string path, CancellationToken cancellation)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                try
                {
                    return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100, cancellation);
                }
            }
        }

        public void Dispose() => stream.Dispose();
    }
}

/// <summary>Where the project keeps its local state.</summary>
public static class ProjectPaths
{
    /// <summary>
    /// <c>.transit</c> under the repository (the folder holding Transit.sln, found from the current directory up),
    /// or under the current directory outside a repository.
    /// </summary>
    public static string DataFolder()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Transit.sln")))
            {
                return Path.Combine(dir.FullName, ".transit");
            }
        }

        return Path.Combine(Environment.CurrentDirectory, ".transit");
    }
}
