namespace Transit.GateAgent.Hardware;

/// <summary>Hardware that cannot be used; the message names the setting and the remedy.</summary>
public sealed class HardwareException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HardwareException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public HardwareException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public HardwareException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
