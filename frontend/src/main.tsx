import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { createSession } from './app/session';
import { createTransport } from './transport';
import './styles/global.css';

const session = createSession(createTransport());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App session={session} />
  </StrictMode>,
);
