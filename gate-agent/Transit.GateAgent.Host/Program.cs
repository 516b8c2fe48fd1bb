using Transit.GateAgent;
using Transit.GateAgent.Host;

return await GateCommandLine.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
