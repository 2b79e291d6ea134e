// "More below": <html> has the class while the screen goes on under the fold, so the cue can show.
(() => {
  const follow = () => document.documentElement.classList.toggle(
    'more-below', document.documentElement.scrollHeight - innerHeight - scrollY > 2);
  addEventListener('scroll', follow, {passive: true});
  addEventListener('resize', follow);
  addEventListener('DOMContentLoaded', () => new ResizeObserver(follow).observe(document.body));
})();
