// What every view needs: the API client and who is labeling. Passed down through Solid's context so tests can
// render a view with a fake fetch behind the same client.

import { createContext, useContext, type Accessor } from 'solid-js';
import type { Api } from '../api/api.js';

export interface AppServices {
  api: Api;
  labeler: Accessor<string>;
  setLabeler: (name: string) => void;
  /** Present when this server signs people in: the name then comes from the sign-in, not a form. */
  signOut?: () => void;
}

export const AppContext = createContext<AppServices>();

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('AppContext is missing: render views inside <AppContext.Provider>');
  return services;
}
