using System.Reflection;
using System.Runtime.InteropServices;

namespace Transit.GateAgent.Journal;

/// <summary>
/// Chooses the SQLite library behind the journal. The e_sqlite3 build that Microsoft.Data.Sqlite bundles makes every
/// durable commit with <c>fsync</c>, which also writes the WAL file's modification time through the file system's
/// journal; the distribution's libsqlite3 uses <c>fdatasync</c>. On the development machine's disk that is 360 µs
/// against 150 µs per commit, most of a rider's wait at the gate.
/// </summary>
public static class SqliteLibrary
{
    private const string SystemLibrary = "libsqlite3.so.0";

    private static int _chosen;

    /// <summary>The loaded SQLite's version; valid once a connection has been opened.</summary>
    public static string Version => SQLitePCL.raw.sqlite3_libversion().utf8_to_string();

    /// <summary>Where SQLite was loaded from: the system's library, or the bundled one.</summary>
    public static string Description { get; private set; } = "bundled e_sqlite3";

    /// <summary>
    /// Makes the process use the system's libsqlite3 (Debian <c>libsqlite3-0</c>) when it is installed, the bundled
    /// library otherwise. Call it first thing in <c>Main</c>: once any SQLite function has been bound, switching would
    /// mix two libraries' handles, so later calls change nothing.
    /// </summary>
    public static void PreferSystemLibrary()
    {
        if (Interlocked.Exchange(ref _chosen, 1) == 1 || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The host set its own resolver for the provider: its choice stands.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "e_sqlite3" || !NativeLibrary.TryLoad(SystemLibrary, out var handle))
        {
            return IntPtr.Zero;
        }

        Description = $"system {SystemLibrary}";
        return handle;
    }
}
