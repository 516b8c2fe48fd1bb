using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using Transit.Clearing.Access;
using Transit.Clearing.Charging;
using Transit.Clearing.Database;
using Transit.Clearing.Fleet;
using Transit.Clearing.Jobs;
using Transit.Clearing.Settlement;

namespace Transit.Clearing.Hosting;

/// <summary>The operators' API (bearer tokens): statements, days, fleet, jobs, accounts. See docs/clearing.md.</summary>
public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapStatementEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/statements/{operatorId}/{day}", async (string operatorId, string day, string? format, ClaimsPrincipal user, Statements statements, CancellationToken cancellation) =>
        {
            if (ApiProblems.IdError(operatorId) is { } badOperator)
            {
                return ApiProblems.BadField("operatorId", badOperator);
            }

            if (!ApiProblems.TryDay(day, out var date))
            {
                return ApiProblems.BadDay(day);
            }

            if (format is not (null or "csv" or "json"))
            {
                return ApiProblems.BadField("format", "must be csv or json");
            }

            if (!user.MaySeeOperator(operatorId))
            {
                return Forbidden($"this token may not read operator {operatorId}'s statements");
            }

            if (await statements.ForAsync(operatorId, date, cancellation) is not { } statement)
            {
                return TypedResults.Problem($"operator '{operatorId}' is not in the imported GTFS feed", statusCode: StatusCodes.Status404NotFound, title: "Unknown operator");
            }

            return format == "csv" ? TypedResults.Text(statement.ToCsv(), "text/csv") : TypedResults.Ok(statement);
        }).RequireAuthorization();
        return app;
    }

    public static IEndpointRouteBuilder MapDayEndpoints(this IEndpointRouteBuilder app)
    {
        // Aggregates of a day: admins and planners see every operator; an operator only its own figures, since the
        // day's totals less its own share would be the other operators' revenue.
        app.MapGet("/api/days/{day}", async (string day, ClaimsPrincipal user, NpgsqlDataSource dataSource, BalanceCheck balance, CancellationToken cancellation) =>
        {
            if (!ApiProblems.TryDay(day, out var date))
            {
                return ApiProblems.BadDay(day);
            }

            var own = user.IsAdmin() ? null : user.OperatorOf();
            if (own is null && !user.IsAdmin() && !user.IsInRole(Roles.Planner))
            {
                return Forbidden("this token may not read the day's aggregates");
            }

            var byOperator = (await Statements.OperatorTotalsAsync(dataSource, date, own, cancellation))
                .Select(t => new { operatorId = t.OperatorId, gross = t.Gross, fee = t.Fee, net = t.Net }).ToList();
            var books = await balance.ComputeAsync(date, cancellation);
            if (own is not null)
            {
                var mine = (await Sql.ListAsync(dataSource, """
                    SELECT (SELECT count(*) FROM taps WHERE service_day = $1 AND operator_id = $2),
                      (SELECT count(DISTINCT (account, journey_no)) FROM journey_legs WHERE service_day = $1 AND operator_id = $2),
                      (SELECT count(*) FROM journey_legs WHERE service_day = $1 AND operator_id = $2),
                      (SELECT cleared_at FROM service_days WHERE service_day = $1)
                    """, r => new { taps = r.GetInt64(0), journeys = r.GetInt64(1), legs = r.GetInt64(2), clearedAt = r.NullableTime(3) }, cancellation, date, own))[0];
                return TypedResults.Ok<object>(new { day, operatorId = own, mine.taps, mine.journeys, mine.legs, mine.clearedAt, balanced = books.Balanced, operators = byOperator });
            }

            var counts = (await Sql.ListAsync(dataSource, """
                SELECT (SELECT count(*) FROM taps WHERE service_day = $1), (SELECT count(*) FROM account_days WHERE service_day = $1),
                  (SELECT COALESCE(sum(journeys), 0)::bigint FROM account_days WHERE service_day = $1),
                  (SELECT cleared_at FROM service_days WHERE service_day = $1)
                """, r => new { taps = r.GetInt64(0), accountDays = r.GetInt64(1), journeys = r.GetInt64(2), clearedAt = r.NullableTime(3) }, cancellation, date))[0];
            return TypedResults.Ok<object>(new
            {
                day,
                counts.taps,
                counts.accountDays,
                counts.journeys,
                counts.clearedAt,
                charges = books.Charges,
                operatorShares = books.OperatorShares,
                fees = books.Fees,
                balanced = books.Balanced,
                unpricedLegs = books.UnpricedLegs,
                unpricedAmount = books.UnpricedAmount,
                operators = byOperator,
            });
        }).RequireAuthorization();

        app.MapPost("/api/days/{day}/clear", (string day, JobScheduler scheduler) =>
            ApiProblems.TryDay(day, out var date)
                ? TypedResults.Accepted($"/api/jobs", new { jobId = long.Parse(scheduler.QueueDay(date)[0], CultureInfo.InvariantCulture) })
                : ApiProblems.BadDay(day)).RequireAuthorization(p => p.RequireRole(Roles.Admin));

        app.MapGet("/api/days/{day}/reconciliation", async (string day, string? deviceId, ClaimsPrincipal user, Reconciliation reconciliation, CancellationToken cancellation) =>
        {
            if (!ApiProblems.TryDay(day, out var date))
            {
                return ApiProblems.BadDay(day);
            }

            if (!user.IsAdmin() && !user.IsInRole(Roles.Operator))
            {
                return Forbidden("device reconciliation is for operators and admins");
            }

            if (deviceId is not null && ApiProblems.IdError(deviceId) is { } badDevice)
            {
                return ApiProblems.BadField("deviceId", badDevice);
            }

            return TypedResults.Ok(await reconciliation.ForDayAsync(date, cancellation, deviceId, user.IsAdmin() ? null : user.OperatorOf()));
        }).RequireAuthorization();

        app.MapGet("/api/jobs", async (JobBoard board, CancellationToken cancellation) => TypedResults.Ok(await board.ListAsync(200, cancellation)))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return app;
    }

    public static IEndpointRouteBuilder MapFleetEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/fleet", async (ClaimsPrincipal user, FleetView fleet, CancellationToken cancellation) =>
            user.IsAdmin() || user.IsInRole(Roles.Operator)
                ? TypedResults.Ok(await fleet.ListAsync(user.IsAdmin() ? null : user.OperatorOf(), cancellation))
                : Forbidden("the fleet view is for operators and admins")).RequireAuthorization();
        return app;
    }

    /// <summary>Rider-level data: admins only.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/accounts/{account}").RequireAuthorization(p => p.RequireRole(Roles.Admin))
            .AddEndpointFilter(async (context, next) =>
                ApiProblems.IdError(context.HttpContext.Request.RouteValues["account"] as string) is { } badAccount
                    ? ApiProblems.BadField("account", badAccount)
                    : await next(context));
        accounts.MapGet("/", async (string account, NpgsqlDataSource dataSource, CancellationToken cancellation) =>
        {
            var state = await Sql.ListAsync(dataSource, "SELECT debt, blocked, on_deny_list, deny_list_version, deny_reasons FROM accounts WHERE account = $1",
                r => new
                {
                    debt = r.GetInt64(0), blocked = r.GetBoolean(1), onDenyList = r.GetBoolean(2), denyListVersion = r.NullableLong(3),
                    denyReasons = r.GetFieldValue<string[]>(4),
                }, cancellation, account);
            var days = await Sql.ListAsync(dataSource, """
                SELECT service_day, revision, fare_total, priced_total, charged_total, journeys, taps, flags FROM account_days WHERE account = $1 ORDER BY 1
                """, r => new
                {
                    day = r.GetFieldValue<DateOnly>(0), revision = r.GetInt32(1), fareTotal = r.GetInt64(2), pricedTotal = r.GetInt64(3),
                    chargedTotal = r.GetInt64(4), journeys = r.GetInt32(5), taps = r.GetInt32(6), flags = r.GetInt32(7),
                }, cancellation, account);
            var charges = await Sql.ListAsync(dataSource, """
                SELECT charge_id, service_day, revision, amount, status, attempts FROM charges WHERE account = $1 ORDER BY charge_id
                """, r => new
                {
                    chargeId = r.GetInt64(0), day = r.GetFieldValue<DateOnly>(1), revision = r.GetInt32(2), amount = r.GetInt64(3),
                    status = r.GetString(4), attempts = r.GetInt32(5),
                }, cancellation, account);
            return TypedResults.Ok(new { account, state = state.FirstOrDefault(), days, charges });
        });
        accounts.MapPost("/settle", async (string account, PaymentService payments, JobScheduler scheduler, CancellationToken cancellation) =>
        {
            var settled = await payments.SettleDebtAsync(account, cancellation);
            scheduler.QueueDenyList();
            return TypedResults.Ok(new { account, paid = settled.PaidByHand, settled.CollectedByProvider, settled.InFlight, settled.DebtLeft });
        });
        accounts.MapPost("/deny", (string account, DenyListPublisher publisher, JobScheduler scheduler, CancellationToken cancellation) =>
            SetManualDenyAsync(account, true, publisher, scheduler, cancellation));
        accounts.MapDelete("/deny", (string account, DenyListPublisher publisher, JobScheduler scheduler, CancellationToken cancellation) =>
            SetManualDenyAsync(account, false, publisher, scheduler, cancellation));
        return app;
    }

    private static async Task<IResult> SetManualDenyAsync(string account, bool denied, DenyListPublisher publisher, JobScheduler scheduler, CancellationToken cancellation)
    {
        var reasons = await publisher.SetManualAsync(account, denied, cancellation);
        scheduler.QueueDenyList();
        return TypedResults.Ok(new { account, denyReasons = reasons });
    }

    private static IResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
}
