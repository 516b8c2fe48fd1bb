using System.Net;

namespace Transit.Clearing.Tests;

/// <summary>The device listener serves the device API only, and the operators' listener never serves it (real HTTPS both ways).</summary>
[Collection(IngestCollection.Name)]
[Trait("Category", "Database")]
public sealed class ListenerTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("/api/fleet")]
    [InlineData("/api/jobs")]
    [InlineData("/jobs")]
    [InlineData("/dashboard/")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/metrics")]
    [InlineData("/health/ready")]
    [InlineData("/health/live")]
    public async Task DeviceListener_WithARegisteredDeviceCertificate_DoesNotServeTheOperatorsApiOrDashboard(string path)
    {
        await using var world = await ClearingWorld.StartAsync(postgres, apiUrl: "https://127.0.0.1:0");
        var gate = await world.AddDeviceAsync("g1", "metro", "metro-entry", station: "CEN");

        using var onDevicePort = await gate.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, onDevicePort.StatusCode);
        Assert.Contains("device listener serves /device/v1 only", await onDevicePort.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same path on the operators' listener is there (it asks for a token or answers).
        using var api = world.DeviceClient(gate.CertificatePath, gate.KeyPath);
        api.BaseAddress = world.ApiUrl;
        using var onApiPort = await api.GetAsync(path);
        Assert.NotEqual(HttpStatusCode.NotFound, onApiPort.StatusCode);
    }

    [Theory]
    [InlineData("/device/v1/keyset")]
    [InlineData("/device/v1/denylist")]
    [InlineData("/device/v1/config")]
    public async Task ApiListener_PresentedADeviceCertificate_DoesNotServeTheDeviceApi(string path)
    {
        await using var world = await ClearingWorld.StartAsync(postgres, apiUrl: "https://127.0.0.1:0");
        var gate = await world.AddDeviceAsync("g1", "metro", "metro-entry", station: "CEN");
        Assert.Equal("https", world.ApiUrl.Scheme);

        using var api = world.DeviceClient(gate.CertificatePath, gate.KeyPath);
        api.BaseAddress = world.ApiUrl;
        using var onApiPort = await api.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, onApiPort.StatusCode);
        Assert.Contains("served on the device listener (mutual TLS) only", await onApiPort.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var onDevicePort = await gate.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, onDevicePort.StatusCode);
    }
}
