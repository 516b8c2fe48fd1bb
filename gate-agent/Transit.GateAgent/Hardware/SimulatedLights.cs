namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedLights(SimulatedHardwareLog log) : IIndicatorLights
{
    public void Show(Light light) => log.Record("light:" + light.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}
