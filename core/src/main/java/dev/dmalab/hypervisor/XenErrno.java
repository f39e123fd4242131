package dev.dmalab.hypervisor;

/** The errno values Xen's hypercalls return (negated), and the grant-table status codes ({@code GNTST_*}). */
public final class XenErrno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;

    public static final int GNTST_OKAY = 0;
    public static final int GNTST_GENERAL_ERROR = -1;
    public static final int GNTST_BAD_DOMAIN = -2;
    public static final int GNTST_BAD_GNTREF = -3;
    public static final int GNTST_BAD_HANDLE = -4;
    public static final int GNTST_PERMISSION_DENIED = -8;

    private XenErrno() {}
}
