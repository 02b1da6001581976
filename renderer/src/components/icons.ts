import type { Component } from 'vue';
import {
  Bell,
  Box,
  Cloudy,
  Coin,
  Connection,
  Cpu,
  DataLine,
  Files,
  Finished,
  Monitor,
  Notebook,
  Odometer,
  PieChart,
  Platform,
  Setting,
  Suitcase,
} from '@element-plus/icons-vue';

/** The navigation's icons by name (see nav/areas.ts). */
export const areaIcons: Record<string, Component> = {
  Bell,
  Box,
  Cloudy,
  Coin,
  Connection,
  Cpu,
  DataLine,
  Files,
  Finished,
  Monitor,
  Notebook,
  Odometer,
  PieChart,
  Platform,
  Setting,
  Suitcase,
};
