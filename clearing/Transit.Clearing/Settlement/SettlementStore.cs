using Npgsql;
using NpgsqlTypes;
using Transit.Clearing.Database;

namespace Transit.Clearing.Settlement;

/// <summary>Reads what a day's earlier revisions gave each operator and writes the new settlement lines.</summary>
public static class SettlementStore
{
    /// <summary>For each of <paramref name="accounts"/>, each operator's gross over the day's charges so far.</summary>
    public static async Task<ILookup<string, (string OperatorId, long Gross)>> PreviousSharesAsync(
        NpgsqlConnection connection, DateOnly day, NpgsqlParameter accounts, CancellationToken cancellation) =>
        (await Sql.ListAsync(connection, """
            SELECT c.account, l.operator_id, sum(l.gross)::bigint FROM charges c JOIN settlement_lines l ON l.charge_id = c.charge_id
            WHERE c.service_day = $1 AND c.account = ANY($2) GROUP BY 1, 2
            """, r => (Account: r.GetString(0), Operator: r.GetString(1), Gross: r.GetInt64(2)), cancellation, day, accounts))
            .ToLookup(s => s.Account, s => (s.Operator, s.Gross), StringComparer.Ordinal);

    /// <summary>Writes <paramref name="lines"/>; their charges must have been written (they carry the ids).</summary>
    public static async Task WriteAsync(NpgsqlConnection connection, DateOnly day, IReadOnlyList<SettlementLine> lines, CancellationToken cancellation)
    {
        if (lines.Count == 0)
        {
            return;
        }

        using var copy = await connection.BeginBinaryImportAsync(
            "COPY settlement_lines (charge_id, operator_id, service_day, gross, fee, net, issuer_id) FROM STDIN (FORMAT BINARY)", cancellation);
        foreach (var l in lines)
        {
            await copy.StartRowAsync(cancellation);
            copy.Write(l.Charge.ChargeId, NpgsqlDbType.Bigint);
            copy.Write(l.OperatorId, NpgsqlDbType.Text);
            copy.Write(day, NpgsqlDbType.Date);
            copy.Write(l.Gross, NpgsqlDbType.Bigint);
            copy.Write(l.Fee, NpgsqlDbType.Bigint);
            copy.Write(l.Net, NpgsqlDbType.Bigint);
            copy.Write(l.Charge.Issuer, NpgsqlDbType.Text);
        }

        await copy.CompleteAsync(cancellation);
    }
}
