using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;

namespace Transit.Clearing.Charging;

/// <summary>
/// Brings the operator's deny list in line with blocked accounts: a new signed version (full list and delta, in the
/// key directory) adds accounts with a deny reason (debt, manual) and removes accounts with none left; gates pick it
/// up at their next sync.
/// Idempotent: a run after a crash finds the list already written and only records it.
/// </summary>
public sealed class DenyListPublisher(NpgsqlDataSource dataSource, OperatorKeys keys)
{
    private const long LockKey = 0x5452_414E_5349_5402;

    /// <summary>
    /// Adds or removes an operator's own reason to deny <paramref name="account"/>; the account comes off the list only
    /// when no reason is left (a debt keeps it on). Takes effect at the next publication.
    /// </summary>
    public async Task<string[]> SetManualAsync(string account, bool denied, CancellationToken cancellation)
    {
        await Sql.ExecAsync(dataSource, "INSERT INTO accounts (account) VALUES ($1) ON CONFLICT DO NOTHING", cancellation, account);
        var reasons = await Sql.ListAsync(dataSource, """
            UPDATE accounts SET deny_reasons = array_remove(deny_reasons, 'manual') || CASE WHEN $2 THEN '{manual}'::text[] ELSE '{}'::text[] END,
              updated_at = now()
            WHERE account = $1 RETURNING deny_reasons
            """, r => r.GetFieldValue<string[]>(0), cancellation, account, denied);
        return reasons.Single();
    }

    /// <summary>Publishes what changed; returns the deny-list version in force afterwards.</summary>
    public async Task<(long Version, int Added, int Removed)> PublishAsync(CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await Sql.ExecAsync(connection, $"SELECT pg_advisory_xact_lock({LockKey})", cancellation);
        var add = await Sql.ListAsync(connection, "SELECT account FROM accounts WHERE blocked AND NOT on_deny_list ORDER BY account", r => r.GetString(0), cancellation);
        var remove = await Sql.ListAsync(connection, "SELECT account FROM accounts WHERE NOT blocked AND on_deny_list ORDER BY account", r => r.GetString(0), cancellation);
        var directory = keys.Open();
        if (add.Count + remove.Count == 0)
        {
            return (directory.DenyList.Version, 0, 0);
        }

        // An account already on the list that clearing never put there was denied by hand in the key directory
        // (transit deny add): it keeps that reason when its debt is paid.
        var byHand = add.Where(directory.DenyList.Accounts.Contains).ToArray();
        if (byHand.Length > 0)
        {
            await Sql.ExecAsync(connection, """
                UPDATE accounts SET deny_reasons = array_append(array_remove(deny_reasons, 'manual'), 'manual'), updated_at = now() WHERE account = ANY($1)
                """, cancellation, Sql.Typed(byHand, NpgsqlDbType.Array | NpgsqlDbType.Text));
        }

        var delta = directory.UpdateDenyList(addAccounts: add, removeAccounts: remove);
        var version = directory.DenyList.Version;
        if (delta is not null)
        {
            await Sql.ExecAsync(connection, """
                INSERT INTO deny_list_versions (version, added_accounts, removed_accounts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
                """, cancellation, version, Sql.Typed(delta.AddAccounts.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
                Sql.Typed(delta.RemoveAccounts.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
        }

        await Sql.ExecAsync(connection, """
            UPDATE accounts SET on_deny_list = blocked, deny_list_version = $2, updated_at = now() WHERE account = ANY($1)
            """, cancellation, Sql.Typed(add.Concat(remove).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text), version);
        await transaction.CommitAsync(cancellation);
        return (version, add.Count, remove.Count);
    }
}
