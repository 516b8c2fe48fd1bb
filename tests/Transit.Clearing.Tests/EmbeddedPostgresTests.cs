using System.Diagnostics;
using Npgsql;
using Transit.Clearing.Database;

namespace Transit.Clearing.Tests;

/// <summary>The embedded cluster lets in only who holds its generated password, kept in a file no other user reads.</summary>
[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class EmbeddedPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Cluster_WithoutOrWithAWrongPassword_RefusesTheConnection()
    {
        var genuine = new NpgsqlConnectionStringBuilder(postgres.Cluster.ConnectionString) { Pooling = false };

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(new NpgsqlConnectionStringBuilder(genuine.ConnectionString) { Password = null }));
        var wrong = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(new NpgsqlConnectionStringBuilder(genuine.ConnectionString) { Password = "guess" }));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, wrong.SqlState);

        await OpenAsync(genuine);
    }

    [Fact]
    public async Task PasswordFile_IsMode0600_AndAnotherLocalUserCannotReadIt()
    {
        var file = postgres.Cluster.PasswordFile;
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        Assert.Contains(new NpgsqlConnectionStringBuilder(postgres.Cluster.ConnectionString).Password!, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        if (Environment.UserName != "root")
        {
            return;
        }

        // Neither nobody nor the postgres system user (which runs the server and owns the data) reads it.
        foreach (var user in (string[])["nobody", "postgres"])
        {
            using var cat = Process.Start(new ProcessStartInfo("runuser", ["-u", user, "--", "cat", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await cat.StandardOutput.ReadToEndAsync();
            await cat.WaitForExitAsync();
            Assert.NotEqual(0, cat.ExitCode);
            Assert.Empty(output);
        }
    }

    [Fact]
    public async Task ClusterFromBeforePasswords_AsksForOneFromItsNextStart()
    {
        var root = Path.Combine(Path.GetTempPath(), "transit-pg-legacy-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            var cluster = await EmbeddedPostgres.StartAsync(root, new EmbeddedPostgresOptions { Durable = false });
            await cluster.StopAsync();
            var hba = Path.Combine(cluster.DataDirectory, "pg_hba.conf");
            await File.WriteAllTextAsync(hba, "local all all trust\nhost all all 127.0.0.1/32 trust\n");
            File.Delete(cluster.PasswordFile);

            await using var restarted = await EmbeddedPostgres.StartAsync(root, new EmbeddedPostgresOptions { Durable = false });

            Assert.True(File.Exists(restarted.PasswordFile));
            Assert.DoesNotContain("trust", await File.ReadAllTextAsync(hba), StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(new NpgsqlConnectionStringBuilder(restarted.ConnectionString) { Password = null, Pooling = false }));
            await OpenAsync(new NpgsqlConnectionStringBuilder(restarted.ConnectionString) { Pooling = false });
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A cluster folder left in the temp directory is harmless.
            }
        }
    }

    private static async Task OpenAsync(NpgsqlConnectionStringBuilder connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }
}
