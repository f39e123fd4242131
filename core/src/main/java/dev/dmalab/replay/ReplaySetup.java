package dev.dmalab.replay;

import dev.dmalab.device.BusType;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.KernelCmdline;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.swiotlb.SwiotlbBoot;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The machine a trace is replayed on: a platform profile refined by the files of the machine that was traced, each
 * parameter with where it came from. Order of authority, per parameter:
 *
 * <ul>
 *   <li><b>command line</b> ({@code /proc/cmdline}): replaces the profile's; a what-if's extra parameters are
 *       appended last and win;
 *   <li><b>RAM</b>: {@code /proc/iomem}'s top-level System RAM ranges, else the profile's (the profile's reserved and
 *       MMIO ranges are kept where they still fit);
 *   <li><b>CPUs</b>: the kernel log's {@code smp: Brought up … N CPUs}, else the profile's;
 *   <li><b>devices</b>: a device list's {@code dma_mask_bits} and driver, else the profile's; a device neither names
 *       is added when the trace first shows it ({@link TraceReplay});
 *   <li><b>swiotlb pool</b>: geometry and base from the kernel log's {@code software IO TLB: area num} and {@code
 *       mapped [mem …]} lines where printed; otherwise the model's sizing rules, and the base derived from the
 *       trace's first bounced mapping by the pool-base rule ({@link PoolBase}); with neither, the model's memblock
 *       placement. A what-if that sets {@code swiotlb=} ignores what the log says about the pool.
 * </ul>
 *
 * Nothing here knows particular capture files: every rule reads the kernel's own output.
 */
public final class ReplaySetup {
    /**
     * The IOMMU of the traced machine: the host bridge's memory windows ({@code root bus resource [mem ...]}) and the
     * input address width ({@code DMAR: Host address width}) from its log when it printed them, else the profile's.
     */
    private static PlatformProfile.IommuSpec refineIommu(
            PlatformProfile base, MachineFiles.Dmesg log, FileText dmesg, List<Source> src) {
        PlatformProfile.IommuSpec spec = base.iommu();
        List<PlatformProfile.Range> windows = spec.hostBridgeWindows();
        int bits = spec.addressBits();
        if (log != null && !log.hostBridgeWindows().isEmpty()) {
            windows = log.hostBridgeWindows();
            src.add(new Source(
                    "host bridge windows",
                    windows.size() + " reserved in every PCI domain",
                    dmesg.name() + ":" + log.windowsLine()));
        } else {
            src.add(new Source("host bridge windows", windows.size() + " reserved in every PCI domain", base.file()));
        }
        if (log != null && log.iommuAddressBits() > 0) {
            bits = log.iommuAddressBits();
            src.add(new Source("iommu address width", bits + " bits", dmesg.name() + ":" + log.iommuAddressBitsLine()));
        } else {
            src.add(new Source("iommu address width", bits + " bits", base.file()));
        }
        return spec.refined(bits, windows, spec.groups());
    }

    /** Where one parameter of the replayed machine came from. */
    public record Source(String parameter, String value, String from) {}

    private final PlatformProfile profile;
    private final KernelVersion version;
    private final Machine.BootOptions options;
    private final List<Source> sources;

    private ReplaySetup(PlatformProfile profile, KernelVersion version, Machine.BootOptions options, List<Source> s) {
        this.profile = profile;
        this.version = version;
        this.options = options;
        this.sources = List.copyOf(s);
    }

    public PlatformProfile profile() {
        return profile;
    }

    public KernelVersion version() {
        return version;
    }

    public Machine.BootOptions options() {
        return options;
    }

    public List<Source> sources() {
        return sources;
    }

    /** A fresh machine as set up. */
    public Machine boot() {
        return Machine.boot(profile, version, options);
    }

    /** A fresh machine with {@code moreCmdline} appended (the sizing oracle's smaller pools). */
    public Machine boot(String moreCmdline) {
        return Machine.boot(profile, version, options.withCmdline(options.extraCmdline() + " " + moreCmdline));
    }

    /** A named input file's text. */
    public record FileText(String name, String text) {}

    /**
     * Builds the set-up.
     *
     * @param cmdline the traced machine's {@code /proc/cmdline}, or null
     * @param iomem its {@code /proc/iomem}, or null
     * @param dmesg its kernel log, or null
     * @param devices its device list, or null
     * @param whatIf kernel parameters appended last ("" for none)
     * @param trace opens the trace again for the pool-base rule (null: not available)
     */
    public static ReplaySetup create(
            PlatformProfile base,
            KernelVersion version,
            FileText cmdline,
            FileText iomem,
            FileText dmesg,
            FileText devices,
            String whatIf,
            Supplier<FtraceParser> trace) {
        List<Source> src = new ArrayList<>();
        src.add(new Source("platform", base.name(), base.file()));
        src.add(new Source(
                "kernel", version.toString(), version.equals(base.defaultKernel()) ? base.file() : "--kernel"));

        // Command line
        String cmd = base.cmdline();
        String cmdFrom = base.cmdline().isEmpty() ? "none" : base.file();
        if (cmdline != null) {
            cmd = MachineFiles.cmdline(cmdline.name(), cmdline.text());
            cmdFrom = cmdline.name();
        }
        KernelCmdline kc = KernelCmdline.parse(cmd).append(whatIf);
        for (String key : KernelCmdline.INTERPRETED) {
            String v = kc.get(key);
            if (v == null) {
                continue;
            }
            boolean fromWhatIf = KernelCmdline.parse(whatIf).get(key) != null;
            String from = fromWhatIf ? "what-if" : cmdFrom;
            if (!key.equals("swiotlb") && base.iommu() == null) {
                from += " (no effect: " + base.name() + " has no IOMMU)";
            }
            src.add(new Source(key, v, from));
        }

        // RAM
        List<PlatformProfile.Range> ram = base.ram();
        List<PlatformProfile.Range> reserved = base.reserved();
        List<PlatformProfile.Range> mmio = base.mmio();
        if (iomem != null) {
            ram = MachineFiles.iomemRam(
                    iomem.name(), iomem.text(), base.pageSize().bytes());
            reserved = keepInside(base.reserved(), ram);
            mmio = keepOutside(base.mmio(), ram);
            src.add(new Source("RAM", describe(ram), iomem.name()));
            if (reserved.size() < base.reserved().size()) {
                src.add(new Source(
                        "reserved",
                        (base.reserved().size() - reserved.size()) + " profile range(s) dropped",
                        "outside the RAM of " + iomem.name()));
            }
        } else {
            src.add(new Source("RAM", describe(ram), base.file()));
        }

        // CPUs and the log's swiotlb lines
        MachineFiles.Dmesg log = dmesg == null ? null : MachineFiles.dmesg(dmesg.name(), dmesg.text());
        int cpus = base.cpus();
        int possible = base.possibleCpus();
        if (log != null && log.cpus() > 0) {
            cpus = log.cpus();
            possible = Math.max(cpus, log.areas() > 0 ? Math.min(possible, log.areas()) : cpus);
            src.add(new Source("CPUs", Integer.toString(cpus), dmesg.name() + ":" + log.cpusLine()));
        } else {
            src.add(new Source("CPUs", Integer.toString(cpus), base.file()));
        }

        // Devices
        List<PlatformProfile.DeviceSpec> devs = new ArrayList<>(base.devices());
        if (devices != null) {
            for (MachineFiles.DeviceFact f : MachineFiles.devices(devices.name(), devices.text())) {
                if (f.driver().isEmpty()) {
                    continue; // no driver, no DMA
                }
                PlatformProfile.DeviceSpec old = base.device(f.name());
                String where = devices.name() + ":" + f.line();
                PlatformProfile.DeviceSpec d = old == null ? newDevice(f) : withFacts(old, f);
                if (old == null) {
                    devs.add(d);
                } else {
                    devs.set(devs.indexOf(old), d);
                }
                src.add(new Source("device " + f.name(), describe(d), where));
            }
        }
        for (PlatformProfile.DeviceSpec d : devs) {
            if (base.device(d.name()) == d) {
                src.add(new Source("device " + d.name(), describe(d), base.file()));
            }
        }

        PlatformProfile refined = base.refined(ram, reserved, mmio, cpus, possible, devs);
        if (base.iommu() != null) {
            refined = refined.withIommu(refineIommu(base, log, dmesg, src));
            Machine.IommuMode mode = Machine.iommuMode(refined.iommu(), kc);
            src.add(new Source(
                    "iommu",
                    refined.iommu().kind() + " " + (mode == null ? "off" : mode.label())
                            + (mode != null && mode.forcedac() ? ", forcedac" : ""),
                    "the command line over " + base.file() + "'s default ("
                            + refined.iommu().defaultDomain() + ")"));
            src.add(new Source(
                    "iommu groups", refined.iommu().groups().size() + " with their reserved regions", base.file()));
        }
        Machine.BootOptions opts = Machine.BootOptions.DEFAULT.withCmdline(cmd + " " + whatIf);
        boolean whatIfPool = KernelCmdline.parse(whatIf).get("swiotlb") != null;
        Machine probe = Machine.boot(refined, version, opts);
        SwiotlbBoot.Result g = probe.swiotlbGeometry();

        if (log != null && log.swiotlbStart() >= 0 && !whatIfPool) {
            long nslabs = log.swiotlbNslabs();
            int nareas = log.areas() > 0 ? log.areas() : g.nareas();
            if (g.nslabs() != nslabs || g.nareas() != nareas) {
                String force = kc.get("swiotlb") != null && kc.get("swiotlb").contains("force") ? ",force" : "";
                String param = "swiotlb=" + nslabs + "," + nareas + force;
                src.add(new Source(
                        "swiotlb geometry",
                        nslabs + " slots, " + nareas + " areas",
                        dmesg.name() + ":" + log.swiotlbLine() + " (the model's sizing gave " + g.nslabs() + " slots, "
                                + g.nareas() + " areas; booted with " + param + ")"));
                opts = opts.withCmdline(opts.extraCmdline() + " " + param);
            } else {
                src.add(new Source(
                        "swiotlb geometry",
                        nslabs + " slots, " + nareas + " areas",
                        dmesg.name() + ":" + log.swiotlbLine() + " (the model's sizing agrees)"));
            }
            opts = opts.withSwiotlbBase(log.swiotlbStart());
            src.add(new Source("swiotlb base", Bits.hex0x(log.swiotlbStart()), dmesg.name() + ":" + log.swiotlbLine()));
        } else if (g.nslabs() > 0) {
            src.add(new Source(
                    "swiotlb geometry",
                    g.nslabs() + " slots, " + g.nareas() + " areas",
                    whatIfPool ? "what-if, the model's sizing rules" : "the model's sizing rules (not in the log)"));
            long derived = -1;
            int line = 0;
            if (trace != null && !whatIfPool) {
                long[] found = firstBounceBase(
                        trace, g.nareas(), g.nslabs(), base.pageSize().bytes());
                derived = found[0];
                line = (int) found[1];
            }
            if (derived >= 0) {
                opts = opts.withSwiotlbBase(derived);
                src.add(new Source(
                        "swiotlb base",
                        Bits.hex0x(derived),
                        "trace line " + line + ", first bounced mapping (pool-base rule)"));
            } else {
                src.add(new Source(
                        "swiotlb base",
                        Bits.hex0x(g.base()),
                        "the model's memblock placement on the profile's memory"));
            }
        } else {
            src.add(new Source("swiotlb", "no pool", "the model's boot rules for this machine"));
        }
        return new ReplaySetup(refined, version, opts, src); // a machine that cannot boot says why at boot()
    }

    /**
     * validated-swiotlb §2: the pool base from the first {@code swiotlb_bounced} line and the map line that reports
     * its address (same CPU, same phys).
     *
     * @return {base, line} or {-1, 0}
     */
    static long[] firstBounceBase(Supplier<FtraceParser> open, int nareas, long nslabs, long pageSize) {
        try (FtraceParser p = open.get()) {
            TraceRecord bounce = null;
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                if (bounce == null) {
                    if (r.event() instanceof TraceEvent.SwiotlbBounced) {
                        bounce = r;
                    }
                    continue;
                }
                if (r.cpu() != bounce.cpu()) {
                    continue;
                }
                long devAddr = ((TraceEvent.SwiotlbBounced) bounce.event()).devAddr();
                long dma = -1;
                if (r.event() instanceof TraceEvent.Map m && m.phys() == devAddr) {
                    dma = m.dmaAddr();
                } else if (r.event() instanceof TraceEvent.MapSg m
                        && m.phys().length > 0
                        && m.phys()[0] == devAddr
                        && m.dmaAddrs().length > 0) {
                    dma = m.dmaAddrs()[0];
                }
                if (dma == Bits.U64_MAX) {
                    bounce = null; // the first bounce failed: it says nothing about the base; try the next
                } else if (dma >= 0) {
                    return new long[] {PoolBase.derive(dma, bounce.cpu(), nareas, nslabs, pageSize), r.line()};
                }
            }
        }
        return new long[] {-1, 0};
    }

    private static List<PlatformProfile.Range> keepInside(
            List<PlatformProfile.Range> ranges, List<PlatformProfile.Range> ram) {
        List<PlatformProfile.Range> out = new ArrayList<>();
        for (PlatformProfile.Range r : ranges) {
            if (ram.stream().anyMatch(x -> r.start() >= x.start() && r.end() <= x.end())) {
                out.add(r);
            }
        }
        return out;
    }

    private static List<PlatformProfile.Range> keepOutside(
            List<PlatformProfile.Range> ranges, List<PlatformProfile.Range> ram) {
        List<PlatformProfile.Range> out = new ArrayList<>();
        for (PlatformProfile.Range r : ranges) {
            if (ram.stream().noneMatch(x -> r.start() < x.end() && x.start() < r.end())) {
                out.add(r);
            }
        }
        return out;
    }

    private static String describe(List<PlatformProfile.Range> ram) {
        StringBuilder sb = new StringBuilder();
        long total = 0;
        for (PlatformProfile.Range r : ram) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(Bits.hex0x(r.start())).append('-').append(Bits.hex0x(r.end() - 1));
            total += r.size();
        }
        return sb.append(" (").append(total >>> 20).append(" MiB)").toString();
    }

    static String describe(PlatformProfile.DeviceSpec d) {
        StringBuilder sb = new StringBuilder();
        sb.append(d.driver() == null || d.driver().isEmpty() ? "no driver" : d.driver());
        sb.append(", ").append(Bits.maskWidth(d.dmaMask())).append("-bit mask");
        if (d.minAlignMask() != 0) {
            sb.append(", min_align_mask ").append(Bits.hex0x(d.minAlignMask()));
        }
        return sb.toString();
    }

    /**
     * The {@code min_align_mask} a driver sets at probe: nvme-pci calls {@code dma_set_min_align_mask(dev,
     * NVME_CTRL_PAGE_SIZE - 1)}; the other drivers of these machines (virtio-pci, ahci, e1000, e1000e) set none.
     */
    static long driverMinAlignMask(String driver) {
        return "nvme".equals(driver) ? 0xfffL : 0;
    }

    private static PlatformProfile.DeviceSpec newDevice(MachineFiles.DeviceFact f) {
        long mask = Bits.dmaBitMask(f.maskBits());
        return new PlatformProfile.DeviceSpec(
                f.name(),
                BusType.PCI,
                f.driver(),
                mask,
                Bits.dmaBitMask(f.coherentMaskBits()),
                null,
                0,
                List.of(),
                "nvme".equals(f.driver()) ? 0xffffffffL : 0,
                0,
                driverMinAlignMask(f.driver()),
                null,
                f.maskBits(),
                "",
                "from the device list");
    }

    private static PlatformProfile.DeviceSpec withFacts(PlatformProfile.DeviceSpec d, MachineFiles.DeviceFact f) {
        long minAlign = d.minAlignMask() != 0 ? d.minAlignMask() : driverMinAlignMask(f.driver());
        return new PlatformProfile.DeviceSpec(
                d.name(),
                d.bus(),
                f.driver(),
                Bits.dmaBitMask(f.maskBits()),
                Bits.dmaBitMask(f.coherentMaskBits()),
                d.coherent(),
                d.busDmaLimit(),
                d.dmaRanges(),
                d.maxSegmentSize(),
                d.segmentBoundary(),
                minAlign,
                d.coherentPool(),
                Math.max(d.hardwareAddressBits(), f.maskBits()),
                d.pciId(),
                d.description());
    }

    /** A device the trace names that no input describes, as a hot-plugged PCI function or platform device. */
    static PlatformProfile.DeviceSpec inferredDevice(String name, long dmaMask) {
        boolean pci = name.matches("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
        return new PlatformProfile.DeviceSpec(
                name,
                pci ? BusType.PCI : BusType.PLATFORM,
                "",
                dmaMask,
                dmaMask,
                null,
                0,
                List.of(),
                0,
                0,
                0,
                null,
                Bits.maskWidth(dmaMask),
                "",
                "seen in the trace");
    }
}
