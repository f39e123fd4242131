package dev.dmalab.cli;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import picocli.CommandLine.Option;

/** {@code --platform} and {@code --kernel}, shared by the commands that boot a machine (a picocli mixin). */
final class PlatformOptions {
    @Option(
            names = {"-p", "--platform"},
            required = true,
            paramLabel = "PLATFORM",
            description = "A built-in platform (see 'dmalab platforms') or a profile .yaml.")
    String platform;

    @Option(
            names = {"-k", "--kernel"},
            paramLabel = "VERSION",
            description = "Kernel version (see 'dmalab kernels'); default: the platform's.")
    String kernel;

    /** The profile, or a usage/input error naming what is wrong with it. */
    PlatformProfile profile() {
        return UsageException.lookup(() -> Platforms.load(platform));
    }

    /** The kernel asked for, else the profile's default. */
    KernelVersion version(PlatformProfile profile) {
        return kernel == null ? profile.defaultKernel() : UsageException.lookup(() -> KernelVersion.parse(kernel));
    }
}
