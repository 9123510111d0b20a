/** Installing Parley as an app, as rune state; written by pwa.ts only. */
class InstallState {
  /** The browser offered installation (`beforeinstallprompt`) and it has not been used. */
  available = $state(false);
  /** Running as the installed app (`display-mode: standalone`, or iOS's Home Screen). */
  standalone = $state(false);
  /** iOS or iPadOS, where only Home Screen apps get notifications. */
  ios = $state(false);

  get canInstall(): boolean {
    return this.available && !this.standalone;
  }

  get needsHomeScreen(): boolean {
    return this.ios && !this.standalone;
  }
}

export const install = new InstallState();
