using System.Runtime.InteropServices;

namespace Transit.GateAgent.Scanners;

/// <summary>The few libc calls the device inputs need (System.IO.Ports is not available on the gate's runtime).</summary>
internal static partial class Libc
{
    // Flag values of the generic Linux ABI, shared by x86-64, arm and arm64.
    public const int ORdWr = 0x2;
    public const int ORdOnly = 0x0;
    public const int ONoCtty = 0x100;
    public const int ONonBlock = 0x800;
    public const short PollIn = 0x1;
    public const short PollErr = 0x8;
    public const short PollHup = 0x10;
    public const short PollNval = 0x20;
    public const int TcsaNow = 0;
    public const int EIntr = 4;
    public const int EAgain = 11;

    /// <summary><c>EVIOCGRAB</c> = <c>_IOW('E', 0x90, int)</c>.</summary>
    public const uint EviocGrab = 0x40044590;

    /// <summary>
    /// Size reserved for <c>struct termios</c>; larger than any Linux ABI's (60 bytes on glibc), so the buffer is
    /// safe whatever the board. Only libc's own functions touch its fields, except VMIN and VTIME below.
    /// </summary>
    public const int TermiosBufferSize = 256;

    /// <summary>Offset of <c>c_cc</c> in glibc's <c>struct termios</c> on Linux: four 32-bit flags and <c>c_line</c>.</summary>
    public const int TermiosCcOffset = 17;

    public const int VTime = 5;
    public const int VMin = 6;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMillis);

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    public static unsafe partial int TcGetAttr(int fd, byte* termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    public static unsafe partial int TcSetAttr(int fd, int optionalActions, byte* termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    public static unsafe partial void CfMakeRaw(byte* termios);

    [LibraryImport("libc", EntryPoint = "cfsetispeed", SetLastError = true)]
    public static unsafe partial int CfSetISpeed(byte* termios, uint speed);

    [LibraryImport("libc", EntryPoint = "cfsetospeed", SetLastError = true)]
    public static unsafe partial int CfSetOSpeed(byte* termios, uint speed);

    [LibraryImport("libc", EntryPoint = "tcflush", SetLastError = true)]
    public static partial int TcFlush(int fd, int queueSelector);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint argument);

    public static string LastError() => Marshal.GetLastPInvokeErrorMessage();
}
