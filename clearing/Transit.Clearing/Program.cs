using Transit.Clearing;
using Transit.Clearing.Hosting;

var builder = WebApplication.CreateBuilder(args);
await using var database = await builder.AddClearingAsync();

// Disposed before the database, so that a refused start (a port in use) still stops the embedded PostgreSQL.
await using var app = builder.Build();
await app.MapClearingAsync();
await app.RunAsync();
