using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;

namespace Transit.GateAgent.Status;

/// <summary>
/// A TCP server on 127.0.0.1 only. It binds in <see cref="StartAsync"/>, before the agent reports ready, so a client
/// that reads the ready line can connect at once; each connection is served on its own task, and stopping waits for
/// the connections in progress.
/// </summary>
internal abstract class LoopbackListenerService(int port, string setting) : BackgroundService
{
    private TcpListener? _listener;

    /// <summary>The port actually bound (the configured one, or the free one picked for 0).</summary>
    protected int BoundPort { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            _listener.Start(backlog: 64);
        }
        catch (SocketException ex)
        {
            throw new IOException($"{setting} {port}: cannot listen on 127.0.0.1:{port}: {ex.Message}", ex);
        }

        BoundPort = ((IPEndPoint)_listener.LocalEndpoint).Port;
        OnBound(BoundPort);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Stop();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    /// <summary>Records the bound port (for the ready line).</summary>
    protected abstract void OnBound(int boundPort);

    /// <summary>Serves one connection; the client is disposed by the caller.</summary>
    protected abstract Task ServeAsync(TcpClient client, CancellationToken stopping);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clients = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await _listener!.AcceptTcpClientAsync(stoppingToken).ConfigureAwait(false);
                clients.RemoveAll(t => t.IsCompleted);
                clients.Add(ServeAndCloseAsync(client, stoppingToken));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopping.
        }

        await Task.WhenAll(clients).ConfigureAwait(false);
    }

    private async Task ServeAndCloseAsync(TcpClient client, CancellationToken stopping)
    {
        using (client)
        {
            await ServeAsync(client, stopping).ConfigureAwait(false);
        }
    }
}
