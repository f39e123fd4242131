package dev.dmalab.driver;

import dev.dmalab.kernel.KernelFunction;
import java.util.List;

/**
 * {@code init/main.c}: the first kernel thread ({@code kernel_init}, entered from {@code ret_from_fork}) runs the
 * initcalls through {@code do_one_initcall}; {@code do_basic_setup}, {@code do_initcalls} and {@code
 * do_initcall_level} are static and inlined into {@code kernel_init_freeable}, which is why the seed's call trace
 * goes straight from {@code kernel_init_freeable} to {@code do_one_initcall}.
 */
public final class KernelInit {
    /** An initcall, e.g. a driver's {@code module_init} function. */
    @FunctionalInterface
    public interface Initcall {
        /** Runs it; returns 0 or a negative errno (which {@code do_one_initcall} only reports). */
        int call();
    }

    private final List<Initcall> initcalls;

    public KernelInit(List<Initcall> initcalls) {
        this.initcalls = List.copyOf(initcalls);
    }

    /** The new thread's first frame. */
    @KernelFunction("ret_from_fork")
    public void retFromFork() {
        kernelInit();
    }

    @KernelFunction("kernel_init")
    private void kernelInit() {
        kernelInitFreeable();
    }

    @KernelFunction("kernel_init_freeable")
    private void kernelInitFreeable() {
        for (Initcall fn : initcalls) {
            doOneInitcall(fn);
        }
    }

    @KernelFunction("do_one_initcall")
    private int doOneInitcall(Initcall fn) {
        return fn.call();
    }
}
