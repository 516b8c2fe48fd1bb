using System.Net.Sockets;
using System.Text;

namespace Transit.GateAgent;

/// <summary>
/// The sd_notify protocol: tells systemd (a unit of <c>Type=notify</c>) when the gate is ready and when it stops,
/// so that dependants and watchdogs see real readiness rather than a started process.
/// </summary>
internal static class SystemdNotifier
{
    public static void Notify(string state)
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

            // A leading '@' names a socket in the abstract namespace, which .NET writes with a leading NUL.
            socket.Connect(new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path));
            socket.Send(Encoding.UTF8.GetBytes(state));
        }
        catch (SocketException)
        {
            // Not fatal: without the notification systemd only learns readiness later, by its start timeout.
        }
    }
}
