using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;

namespace Transit.Clearing.Charges;

/// <summary>Writes the charges of a part of a day, in the part's transaction, giving each its id.</summary>
public static class ChargeStore
{
    /// <summary>Gives each charge its id from <c>charges_charge_id_seq</c> and writes them all.</summary>
    public static async Task WriteAsync(
        NpgsqlConnection connection, DateOnly day, string currency, IReadOnlyList<Charge> charges, CancellationToken cancellation)
    {
        if (charges.Count == 0)
        {
            return;
        }

        var ids = await Sql.ListAsync(connection, "SELECT nextval('charges_charge_id_seq') FROM generate_series(1, $1)", r => r.GetInt64(0), cancellation, charges.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            charges[i].ChargeId = ids[i];
        }

        using var copy = await connection.BeginBinaryImportAsync(
            "COPY charges (charge_id, account, service_day, revision, amount, currency, idempotency_key, status, issuer_id) FROM STDIN (FORMAT BINARY)", cancellation);
        foreach (var c in charges)
        {
            await copy.StartRowAsync(cancellation);
            copy.Write(c.ChargeId, NpgsqlDbType.Bigint);
            copy.Write(c.Account, NpgsqlDbType.Text);
            copy.Write(day, NpgsqlDbType.Date);
            copy.Write(c.Revision, NpgsqlDbType.Integer);
            copy.Write(c.Amount, NpgsqlDbType.Bigint);
            copy.Write(currency, NpgsqlDbType.Text);
            copy.Write(c.IdempotencyKey, NpgsqlDbType.Text);
            copy.Write(c.InitialStatus, NpgsqlDbType.Text);
            copy.Write(c.Issuer, NpgsqlDbType.Text);
        }

        await copy.CompleteAsync(cancellation);
    }
}
