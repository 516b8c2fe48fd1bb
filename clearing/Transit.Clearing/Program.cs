using Transit.Clearing;

var builder = WebApplication.CreateBuilder(args);
await builder.AddClearingAsync();

var app = builder.Build();
await app.MapClearingAsync();
await app.RunAsync();
